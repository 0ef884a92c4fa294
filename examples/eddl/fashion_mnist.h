// Loads Fashion-MNIST as Debian's dataset-fashion-mnist ships it (gzipped IDX files).
#pragma once
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

#include <eddl/eddl.h>

namespace example {

inline std::string data_dir() {
    const char* d = std::getenv("FASHION_MNIST_DIR");
    return d ? d : "/usr/share/datasets/fashion-mnist";
}

/// x: [n, 784] floats in [0, 255]; y: [n, 10] one-hot.
inline void load_fashion_mnist(const std::string& split, eddl::tensor& x, eddl::tensor& y) {
    const std::string prefix = data_dir() + "/" + (split == "train" ? "train" : "t10k");
    x = eddlT::load(prefix + "-images-idx3-ubyte.gz");
    x->reshape_({x->shape[0], 784});
    y = eddl::Tensor::onehot(*eddlT::load(prefix + "-labels-idx1-ubyte.gz"), 10);
}

/// Command line of the examples: --epochs N --threads N --min-accuracy A.
struct Args {
    int epochs = 5, threads = -1;
    float min_accuracy = 0;
};

inline Args parse_args(int argc, char** argv, int default_epochs) {
    Args a;
    a.epochs = default_epochs;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--epochs")) a.epochs = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) a.threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--min-accuracy")) a.min_accuracy = std::atof(argv[i + 1]);
        else throw std::invalid_argument(std::string("unknown option ") + argv[i]);
    }
    if (argc % 2 == 0) throw std::invalid_argument(std::string("option ") + argv[argc - 1] + " needs a value");
    return a;
}

/// Prints the test accuracy; exit status 1 when it is below the required minimum.
inline int report_accuracy(double acc, float min_accuracy) {
    std::cout << "Test accuracy: " << acc << "\n";
    if (acc < min_accuracy) {
        std::cerr << "test accuracy " << acc << " is below the required " << min_accuracy << "\n";
        return 1;
    }
    return 0;
}

}  // namespace example
