// Listing 1 of the DeepHealth paper: an MLP trained on Fashion-MNIST with the Keras-like API.
// Usage: mnist_mlp [--epochs N] [--threads N] [--min-accuracy A]
//   --min-accuracy makes the program exit with status 1 when test accuracy ends below A.
#include <cstring>
#include <iostream>

#include <eddl/eddl.h>

#include "fashion_mnist.h"

using namespace eddl;

int main(int argc, char** argv) try {
    int epochs = 5, threads = -1;
    float min_accuracy = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--epochs")) epochs = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--min-accuracy")) min_accuracy = std::atof(argv[i + 1]);
        else throw std::invalid_argument(std::string("unknown option ") + argv[i]);
    }
    const int batch_size = 100, num_classes = 10;

    // Define network (Listing 1, lines 1-8)
    layer in = Input({784});
    layer l = in;
    l = LeakyReLu(Dense(l, 1024));
    l = LeakyReLu(Dense(l, 1024));
    l = LeakyReLu(Dense(l, 1024));
    layer out = Softmax(Dense(l, num_classes));
    model net = Model({in}, {out});

    // Build model: the paper uses CS_GPU({1}, "low_mem"); this build runs on the CPU
    build(net, sgd(0.01f, 0.9f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(threads));
    summary(net);

    // Load training and test data
    tensor x_tr, y_tr, x_ts, y_ts;
    example::load_fashion_mnist("train", x_tr, y_tr);
    example::load_fashion_mnist("test", x_ts, y_ts);

    // Preprocessing
    x_tr->div_(255.0);
    x_ts->div_(255.0);

    // Train model
    fit(net, {x_tr}, {y_tr}, batch_size, epochs);

    // Evaluate
    const Logs res = evaluate(net, {x_ts}, {y_ts});
    const double acc = res.at("categorical_accuracy");
    std::cout << "Test accuracy: " << acc << "\n";
    if (acc < min_accuracy) {
        std::cerr << "test accuracy " << acc << " is below the required " << min_accuracy << "\n";
        return 1;
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "mnist_mlp: " << e.what() << "\n";
    return 2;
}
