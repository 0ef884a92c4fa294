// Listing 1 of the DeepHealth paper: an MLP trained on Fashion-MNIST with the Keras-like API.
// Usage: mnist_mlp [--epochs N] [--threads N] [--min-accuracy A]
//   --min-accuracy makes the program exit with status 1 when test accuracy ends below A.
#include <eddl/eddl.h>

#include "fashion_mnist.h"

using namespace eddl;

int main(int argc, char** argv) try {
    const example::Args args = example::parse_args(argc, argv, 5);
    const int epochs = args.epochs, threads = args.threads;
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
    return example::report_score("accuracy", acc, args.min_score);
} catch (const std::exception& e) {
    std::cerr << "mnist_mlp: " << e.what() << "\n";
    return 2;
}
