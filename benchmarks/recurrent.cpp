// Recurrent layers, our side of benchmarks/run_recurrent.sh: a training step (forward, backward,
// SGD update) or an inference pass of LSTM / GRU / RNN -> Dense(10) on random sequences. Prints
// one JSON line with the best time per iteration.
//   recurrent_bench --kind lstm|gru|rnn --mode train|infer --batch B --steps T --features I
//                   --units H [--bidirectional] --threads N --iters K
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "eddl/eddl.h"

using namespace eddl;

int main(int argc, char** argv) {
    std::string kind = "lstm", mode = "train";
    int batch = 64, steps = 50, features = 64, units = 128, threads = 1, iters = 10;
    bool bi = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
            return argv[++i];
        };
        if (a == "--kind") kind = next();
        else if (a == "--mode") mode = next();
        else if (a == "--batch") batch = std::stoi(next());
        else if (a == "--steps") steps = std::stoi(next());
        else if (a == "--features") features = std::stoi(next());
        else if (a == "--units") units = std::stoi(next());
        else if (a == "--threads") threads = std::stoi(next());
        else if (a == "--iters") iters = std::stoi(next());
        else if (a == "--bidirectional") bi = true;
        else {
            std::cerr << "unknown argument " << a << "\n";
            return 2;
        }
    }
    layer in = Input({steps, features});
    layer h = kind == "lstm" ? LSTM(in, units, false, bi) : kind == "gru" ? GRU(in, units, false, bi) : RNN(in, units, "tanh", true, bi);
    model net = Model({in}, {Dense(h, 10)});
    build(net, sgd(0.01f), {"mse"}, {}, CS_CPU(threads));
    auto x = Tensor::randn({batch, steps, features}, 1), y = Tensor::randn({batch, 10}, 2);
    auto once = [&] {
        if (mode == "train") train_batch(net, {x}, {y});
        else forward(net, {x});
    };
    once();  // warm-up (primitives, buffers)
    double best = 1e30;
    for (int i = 0; i < iters; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        once();
        best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("{\"peer\": \"eddl\", \"kind\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"steps\": %d, \"features\": %d, "
                "\"units\": %d, \"bidirectional\": %s, \"threads\": %d, \"ms\": %.3f}\n",
                kind.c_str(), mode.c_str(), batch, steps, features, units, bi ? "true" : "false", threads, best);
}
