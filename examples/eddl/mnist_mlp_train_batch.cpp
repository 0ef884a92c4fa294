// The same MLP trained with the fine-grained API: batches, forward, backward and update by hand.
// Usage: mnist_mlp_train_batch [--epochs N] [--threads N]
#include <iostream>
#include <numeric>

#include <eddl/eddl.h>

#include "fashion_mnist.h"

using namespace eddl;

int main(int argc, char** argv) try {
    const example::Args args = example::parse_args(argc, argv, 1);
    const int epochs = args.epochs, threads = args.threads;
    const int batch_size = 100;

    layer in = Input({784});
    layer l = in;
    l = LeakyReLu(Dense(l, 1024));
    l = LeakyReLu(Dense(l, 1024));
    l = LeakyReLu(Dense(l, 1024));
    layer out = Softmax(Dense(l, 10));
    model net = Model({in}, {out});
    build(net, sgd(0.01f, 0.9f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(threads));

    tensor x_tr, y_tr, x_ts, y_ts;
    example::load_fashion_mnist("train", x_tr, y_tr);
    example::load_fashion_mnist("test", x_ts, y_ts);
    x_tr->div_(255.0f);
    x_ts->div_(255.0f);

    const int n = x_tr->shape[0], num_batches = n / batch_size;
    for (int e = 0; e < epochs; ++e) {
        reset_loss(net);
        for (int b = 0; b < num_batches; ++b) {
            // random_indices draws a batch with replacement, as EDDL's example does
            const std::vector<int> idx = random_indices(batch_size, n);
            train_batch(net, {x_tr}, {y_tr}, idx);
            if ((b + 1) % 100 == 0) print_loss(net, b + 1);
        }
        std::cout << "Epoch " << e + 1 << " done\n";
    }

    // Evaluation by hand: forward each test batch and accumulate the metric in inference mode
    reset_loss(net);
    const int nt = x_ts->shape[0];
    for (int s = 0; s < nt; s += batch_size) {
        std::vector<int> idx(std::min(batch_size, nt - s));
        std::iota(idx.begin(), idx.end(), s);
        eval_batch(net, {x_ts}, {y_ts}, idx);
    }
    std::cout << "Test loss: " << get_losses(net)[0] << "  test accuracy: " << get_metrics(net)[0] << "\n";
    return 0;
} catch (const std::exception& e) {
    std::cerr << "mnist_mlp_train_batch: " << e.what() << "\n";
    return 2;
}
