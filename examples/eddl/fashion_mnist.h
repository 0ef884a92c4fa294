// Loads Fashion-MNIST as Debian's dataset-fashion-mnist ships it (gzipped IDX files).
#pragma once
#include <cstdlib>
#include <iostream>
#include <string>

#include <eddl/eddl.h>

#include "example_args.h"

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

}  // namespace example
