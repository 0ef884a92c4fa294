// A small convolutional network on Fashion-MNIST (EDDL's 7_mnist_conv, on Debian's data).
// Usage: mnist_conv [--epochs N] [--threads N] [--min-accuracy A]
#include <eddl/eddl.h>

#include "fashion_mnist.h"

using namespace eddl;

int main(int argc, char** argv) try {
    const example::Args args = example::parse_args(argc, argv, 5);
    const int epochs = args.epochs, threads = args.threads;

    layer in = Input({784});
    layer l = Reshape(in, {1, 28, 28});
    l = MaxPool2D(ReLu(Conv2D(l, 32, {3, 3})), {2, 2}, {2, 2});
    l = MaxPool2D(ReLu(Conv2D(l, 64, {3, 3})), {2, 2}, {2, 2});
    l = ReLu(Dense(Flatten(l), 128));
    layer out = Softmax(Dense(l, 10));
    model net = Model({in}, {out});
    build(net, adam(0.001f, 0.9f, 0.999f, 1e-7f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(threads));
    summary(net);

    tensor x_tr, y_tr, x_ts, y_ts;
    example::load_fashion_mnist("train", x_tr, y_tr);
    example::load_fashion_mnist("test", x_ts, y_ts);
    x_tr->div_(255.0f);
    x_ts->div_(255.0f);

    fit(net, {x_tr}, {y_tr}, 100, epochs);
    const double acc = evaluate(net, {x_ts}, {y_ts}).at("categorical_accuracy");
    return example::report_score("accuracy", acc, args.min_score);
} catch (const std::exception& e) {
    std::cerr << "mnist_conv: " << e.what() << "\n";
    return 2;
}
