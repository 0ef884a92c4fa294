// A recurrent network on Fashion-MNIST (EDDL's 8_mnist_rnn, on Debian's data): each image is a
// sequence of 28 rows of 28 pixels, read by an LSTM whose final state a Dense layer classifies.
// Usage: mnist_rnn [--epochs N] [--threads N] [--min-accuracy A]
#include <eddl/eddl.h>

#include "fashion_mnist.h"

using namespace eddl;

int main(int argc, char** argv) try {
    const example::Args args = example::parse_args(argc, argv, 3);

    layer in = Input({784});
    layer l = LSTM(Reshape(in, {28, 28}), 128);  // 28 steps of 28 features -> the last state
    layer out = Softmax(Dense(l, 10));
    model net = Model({in}, {out});
    build(net, adam(0.002f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(args.threads));
    summary(net);

    tensor x_tr, y_tr, x_ts, y_ts;
    example::load_fashion_mnist("train", x_tr, y_tr);
    example::load_fashion_mnist("test", x_ts, y_ts);
    x_tr->div_(255.0f);
    x_ts->div_(255.0f);

    fit(net, {x_tr}, {y_tr}, 100, args.epochs);
    const double acc = evaluate(net, {x_ts}, {y_ts}).at("categorical_accuracy");
    return example::report_score("accuracy", acc, args.min_score);
} catch (const std::exception& e) {
    std::cerr << "mnist_rnn: " << e.what() << "\n";
    return 2;
}
