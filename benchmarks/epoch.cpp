// EDDL side of the epoch benchmarks; the peer is epoch_pytorch.py (same protocol).
//
// --model mlp: the MLP 784-1024-1024-1024-10 (Dense+LeakyReLu(0.01) x3, Dense to 10), sgd(0.01, 0.9).
// --model cnn: Conv2D(32, 3x3)-ReLu-MaxPool2D-Conv2D(64, 3x3)-ReLu-MaxPool2D-Dense(128)-ReLu-Dense(10),
//              adam(1e-3, eps 1e-7) (examples/eddl/mnist_conv.cpp).
// Both: Softmax with soft_cross_entropy on Fashion-MNIST, batch 100, CS_CPU(threads).
// Data loading and 20 warm-up batches are outside the timed region (but inside the RSS
// measurement); one shuffled epoch of fit() is timed. In the same process and at the same thread
// count it also measures the SGEMM rate of Tensor::matmul for 1024x1024x1024 and for the MLP's
// hidden-layer shape 100x1024 times 1024x1024 (best of 10 after a warm-up); the FLOP rates are
// reported for the MLP only.
//
// Usage: epoch [--model mlp|cnn] [--threads N]      (N >= 1; default 1)
// Prints exactly one JSON line to stdout.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <eddl/eddl.h>

#include "fashion_mnist.h"

using namespace eddl;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// Best-of-`reps` GFLOP/s of C = A x B with A m x k and B k x n, after `warm` untimed calls.
double sgemm_gflops(int m, int n, int k, int warm = 3, int reps = 10) {
    const tensor A = Tensor::randu({m, k}, 1);
    const tensor B = Tensor::randu({k, n}, 2);
    float sink = 0;
    for (int i = 0; i < warm; ++i) sink += Tensor::matmul(*A, *B)->ptr[0];
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = Clock::now();
        const tensor C = Tensor::matmul(*A, *B);
        best = std::min(best, seconds_since(t0));
        sink += C->ptr[0];
    }
    if (sink == -1.0f) std::fprintf(stderr, "unreachable\n");  // keep the products observable
    return 2.0 * m * n * k / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) try {
    int threads = 1;
    std::string kind = "mlp";
    bool nchw = false;  // --nchw: Net::blocked_training = false, for comparison
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--model") && i + 1 < argc) kind = argv[++i];
        else if (!std::strcmp(argv[i], "--nchw")) nchw = true;
        else throw std::invalid_argument(std::string("unknown or incomplete option ") + argv[i] +
                                         " (usage: epoch [--model mlp|cnn] [--threads N] [--nchw])");
    }
    if (threads < 1) throw std::invalid_argument("--threads must be >= 1");
    if (kind != "mlp" && kind != "cnn") throw std::invalid_argument("--model must be mlp or cnn");

    const int batch = 100, warmup_batches = 20;
    const std::vector<std::pair<int, int>> dense = {{784, 1024}, {1024, 1024}, {1024, 1024}, {1024, 10}};

    layer in = Input({784});
    layer l = in;
    if (kind == "mlp") {
        for (size_t i = 0; i + 1 < dense.size(); ++i) l = LeakyReLu(Dense(l, dense[i].second));
        l = Dense(l, dense.back().second);
    } else {
        l = MaxPool2D(ReLu(Conv2D(Reshape(l, {1, 28, 28}), 32, {3, 3})), {2, 2}, {2, 2});
        l = MaxPool2D(ReLu(Conv2D(l, 64, {3, 3})), {2, 2}, {2, 2});
        l = Dense(ReLu(Dense(Flatten(l), 128)), 10);
    }
    model net = Model({in}, {Softmax(l)});
    net->blocked_training = !nchw;
    build(net, kind == "mlp" ? sgd(0.01f, 0.9f) : adam(0.001f, 0.9f, 0.999f, 1e-7f), {"soft_cross_entropy"},
          {"categorical_accuracy"}, CS_CPU(threads));

    // ---- data loading (not timed) ----
    tensor x_tr, y_tr;
    example::load_fashion_mnist("train", x_tr, y_tr);
    x_tr->div_(255.0f);
    const int n = x_tr->shape[0];

    // ---- warm-up: the first 20 batches in order (not timed, not counted) ----
    for (int b = 0; b < warmup_batches; ++b) {
        std::vector<int> idx(batch);
        std::iota(idx.begin(), idx.end(), (b * batch) % (n - batch + 1));
        train_batch(net, {x_tr}, {y_tr}, idx);
    }

    // ---- one timed epoch ----
    FitOptions opts;
    opts.shuffle = true;
    opts.verbose = 0;
    const auto t0 = Clock::now();
    fit(net, {x_tr}, {y_tr}, batch, 1, opts);
    const double epoch_s = seconds_since(t0);
    const double train_loss = get_losses(net).at(0);  // fit resets the running loss at epoch start

    // FLOPs of the epoch: forward 2*b*in*out per Dense, weight gradient 2*b*in*out per Dense,
    // data gradient 2*b*in*out for every Dense but the first (its input needs no gradient).
    // "Nominal" counts the first layer's data gradient too (the 1.05 TFLOP per epoch):
    // the work a framework that does not skip it performs, so rates compare across frameworks.
    double flops = 0, flops_nominal = 0;
    for (size_t i = 0; i < dense.size(); ++i) {
        const double mnk = double(n) * dense[i].first * dense[i].second;
        flops += 2 * mnk + 2 * mnk + (i > 0 ? 2 * mnk : 0);
        flops_nominal += 6 * mnk;
    }

    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    const double rss_mb = ru.ru_maxrss / 1024.0;  // Linux: kilobytes

    if (kind == "cnn") {
        std::printf("{\"peer\": \"eddl\", \"model\": \"cnn\", \"threads\": %d, \"epoch_seconds\": %.4f, "
                    "\"train_loss\": %.6f, \"max_rss_mb\": %.1f}\n", threads, epoch_s, train_loss, rss_mb);
        return 0;
    }
    // ---- SGEMM rate in this process, same thread count (build set the OpenMP pool) ----
    const double g1024 = sgemm_gflops(1024, 1024, 1024);
    const double g100 = sgemm_gflops(100, 1024, 1024);

    std::printf("{\"peer\": \"eddl\", \"model\": \"mlp\", \"threads\": %d, \"epoch_seconds\": %.4f, \"train_loss\": %.6f, "
                "\"gflops\": %.2f, \"gflops_nominal\": %.2f, \"sgemm_gflops_1024\": %.2f, \"sgemm_gflops_100x1024x1024\": %.2f, "
                "\"max_rss_mb\": %.1f}\n",
                threads, epoch_s, train_loss, flops / epoch_s / 1e9, flops_nominal / epoch_s / 1e9, g1024, g100, rss_mb);
    std::fflush(stdout);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "epoch: " << e.what() << "\n";
    return 2;
}
