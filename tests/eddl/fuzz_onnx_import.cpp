// Fuzz target for the ONNX importer (issue 6): any byte string given to
// import_net_from_onnx_string either imports (and then builds and runs a forward pass on a tiny
// batch) or throws eddl::Error. Anything else (another exception, a crash, a sanitizer report,
// a hang) is a bug in the importer.
//
// Two ways to run the same entry point (docs/onnx.md, "Fuzzing", has the commands):
//  * libFuzzer (clang, -fsanitize=fuzzer,address,undefined): LLVMFuzzerTestOneInput below.
//    With EDDL_FUZZ_SEEDS=<dir> set, LLVMFuzzerInitialize first writes the seed models there.
//  * standalone driver (any compiler, built with -DEDDL_FUZZ_STANDALONE, best with
//    -fsanitize=address,undefined): `fuzz_onnx_import <corpus dir> [variants per seed]
//    [seconds]` writes the seed models into the directory when it is empty, then feeds every
//    file and deterministic mutations of it (byte flips, truncations, insertions, splices,
//    varint-sized overwrites, from a seeded generator) to the entry point, round after round,
//    until the time is up.
//
// Seeds are the models the ONNX tests export (an MLP, a CNN with BatchNormalization, pooling,
// Concat, ConvT2D, UpSampling2D and Pad, a 1-D convolution net), written at run time.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "eddl/eddl.h"
#include "layers/layers.h"
#include "onnx/onnx_common.h"

using namespace eddl;
namespace fs = std::filesystem;

namespace {

// Largest activation (elements per sample) the forward pass is run for: fuzzed shapes can ask
// for gigabytes legitimately; importing them is checked, running them is not worth the time.
constexpr int64_t kMaxElements = 1 << 16;

int64_t elements(const Shape& s) {
    int64_t n = 1;
    for (int d : s) {
        if (d <= 0) return 0;
        n *= d;
        if (n > kMaxElements) return n;
    }
    return n;
}

void run_one(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    for (OnnxBatch mode : {OnnxBatch::first_dim, OnnxBatch::none}) try {
        model net = import_net_from_onnx_string(bytes, {}, mode);
        bool small = true;
        for (const auto& l : net->layers) small = small && elements(l->out_shape) <= kMaxElements;
        if (!small) continue;
        build(net, nullptr, CS_CPU(1));
        vtensor in;
        for (const auto& l : net->inputs) {
            Shape s{1};
            s.insert(s.end(), l->out_shape.begin(), l->out_shape.end());
            in.push_back(Tensor::randn(s, 1));
        }
        forward(net, in);
    } catch (const eddl::Error&) {
        // the documented outcome for a bad model
    }
    // anything else propagates: libFuzzer reports an uncaught exception as a crash, the
    // standalone driver prints it and exits non-zero
}

std::vector<std::string> seed_models() {
    std::vector<std::string> seeds;
    {
        layer in = Input({6}, "x");
        layer l = ReLu(Dense(in, 5, true, "d1"), "r1");
        l = Dropout(l, 0.25f, true);
        model net = Model({in}, {Softmax(Dense(l, 3, true, "d2"), -1, "sm")});
        build(net, nullptr, CS_CPU(1));
        seeds.push_back(serialize_net_to_onnx_string(net));
    }
    {
        layer in = Input({3, 8, 8});
        layer a = ReLu(BatchNormalization(Conv2D(in, 4, {3, 3}, {1, 1}, "same"), 0.9f, 1e-5f));
        layer b = Conv2D(in, 4, {3, 3}, {1, 1}, "same", true, 1, {1, 1});
        layer l = MaxPool2D(Add({a, b}), {2, 2}, {2, 2});
        layer up = ConvT2D(l, 2, {2, 2}, {2, 2});
        layer up2 = UpSampling2D(l, {2, 2});
        l = Concat({up, up2}, 0);
        l = AveragePool2D(Pad(l, {1, 1}), {3, 3}, {2, 2}, "same");
        l = Flatten(GlobalAveragePool(Sigmoid(l)));
        model net = Model({in}, {Softmax(Dense(l, 4))});
        build(net, nullptr, CS_CPU(1));
        seeds.push_back(serialize_net_to_onnx_string(net));
    }
    {
        layer in = Input({2, 16});
        layer l = MaxPool1D(ReLu(Conv1D(in, 4, {3})), {2}, {2});
        l = LayerNormalization(Flatten(l));
        model net = Model({in}, {Tanh(Dense(l, 2))});
        build(net, nullptr, CS_CPU(1));
        seeds.push_back(serialize_net_to_onnx_string(net));
    }
    {  // recurrent layers (exported between Transposes, re-imported through batch-axis tracking)
        layer in = Input({6, 3}, "x");
        layer l = GRU(LSTM(in, 4, false, true, "lstm", true), 3, false, false, "gru");
        model net = Model({in}, {Softmax(Dense(RNN(Reshape(l, {3, 1}), 2, "relu"), 2))});
        build(net, nullptr, CS_CPU(1));
        seeds.push_back(serialize_net_to_onnx_string(net));
    }
    {  // the layers only import creates: reductions, Gather, LogSoftmax/Hardmax, MatMul, norm statistics, pooling options
        using namespace onnxio;
        layer in = Input({4, 6}, "x");
        layer ln = std::make_shared<LGroupNorm>(in, 0, 1e-5f, true, "ln", 1);
        layer mm = std::make_shared<LMatMul>(Dense(ln, 6, true, "q"), Permute(Dense(ln, 6, true, "k"), {1, 0}, "kt"), "qk");
        layer sm = std::make_shared<LAxisOp>(mm, "LogSoftmax", 1, "ls");
        layer g = std::make_shared<LGather>(sm, 0, std::vector<int64_t>{2}, std::vector<int64_t>{3, 1}, "g");
        layer r = std::make_shared<LReduce>(g, ReduceFn::LogSumExp, "ReduceLogSumExp", std::vector<int>{0}, false, "r");
        layer h = std::make_shared<LAxisOp>(in, "Hardmax", 0, "hm");
        layer st = std::make_shared<LNormStat>(in, 1, 1e-5f, true, "inv");
        layer pr = std::make_shared<LElementwise>(in, EwFn::PRelu, "PRelu", 0.0f, 0.0f, std::vector<int64_t>{6},
                                                  std::vector<float>(6, 0.2f), "prelu");
        PoolOptions opt;
        opt.ceil_mode = true;
        opt.count_include_pad = true;
        layer p = std::make_shared<LPool2D>(pr, PoolKind::Avg, std::vector<int>{3}, std::vector<int>{2}, "", false, "pool",
                                            std::vector<int>{1, 0}, 1, opt);
        model net = Model({in}, {r, h, st, p});
        build(net, nullptr, CS_CPU(1));
        seeds.push_back(serialize_net_to_onnx_string(net));
    }
    return seeds;
}

void write_seeds(const fs::path& dir) {
    fs::create_directories(dir);
    int i = 0;
    for (const auto& s : seed_models()) {
        std::ofstream f(dir / ("seed" + std::to_string(i++) + ".onnx"), std::ios::binary);
        f.write(s.data(), std::streamsize(s.size()));
    }
}

}  // namespace

#ifndef EDDL_FUZZ_STANDALONE

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* dir = std::getenv("EDDL_FUZZ_SEEDS")) write_seeds(dir);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    run_one(data, size);
    return 0;
}

#else  // standalone driver

#include <chrono>

namespace {

struct Rng {  // splitmix64: deterministic across platforms
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    size_t below(size_t n) { return n ? size_t(next() % n) : 0; }
};

std::string mutate(const std::string& in, const std::vector<std::string>& corpus, Rng& r) {
    std::string s = in;
    const int edits = 1 + int(r.below(4));
    for (int e = 0; e < edits; ++e) {
        switch (r.below(7)) {
            case 0:  // flip bits
                if (!s.empty()) s[r.below(s.size())] ^= char(1u << r.below(8));
                break;
            case 1:  // random byte
                if (!s.empty()) s[r.below(s.size())] = char(r.next());
                break;
            case 2:  // truncate
                s.resize(r.below(s.size() + 1));
                break;
            case 3:  // insert random bytes
                s.insert(r.below(s.size() + 1), std::string(1 + r.below(8), char(r.next())));
                break;
            case 4: {  // erase a range
                if (s.empty()) break;
                const size_t p = r.below(s.size());
                s.erase(p, 1 + r.below(std::min<size_t>(16, s.size() - p)));
                break;
            }
            case 5: {  // interesting values (varint lengths, dims): 0, 1, 0x7f, 0xff, 0x80
                static const char vals[] = {0, 1, 0x7f, char(0xff), char(0x80), 2, 0x40};
                if (!s.empty()) s[r.below(s.size())] = vals[r.below(sizeof vals)];
                break;
            }
            default: {  // splice: a chunk of another corpus file
                const std::string& o = corpus[r.below(corpus.size())];
                if (o.empty()) break;
                const size_t p = r.below(o.size()), n = 1 + r.below(std::min<size_t>(64, o.size() - p));
                s.insert(r.below(s.size() + 1), o.substr(p, n));
                break;
            }
        }
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " <corpus dir> [variants per file per round=200] [seconds=60]\n";
        return 2;
    }
    const fs::path dir = argv[1];
    const long variants = argc > 2 ? std::atol(argv[2]) : 200;
    const double seconds = argc > 3 ? std::atof(argv[3]) : 60.0;
    if (!fs::exists(dir) || fs::is_empty(dir)) write_seeds(dir);
    std::vector<std::string> corpus;
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(dir)) paths.push_back(e.path());
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
        std::ifstream f(p, std::ios::binary);
        corpus.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    const fs::path last = dir.parent_path() / "last-input";
    Rng r{0x5eed};
    long runs = 0;
    for (int round = 0; elapsed() < seconds; ++round) {
        for (size_t i = 0; i < corpus.size() && elapsed() < seconds; ++i) {
            const auto& c = corpus[i];
            run_one(reinterpret_cast<const uint8_t*>(c.data()), c.size());
            ++runs;
            for (long v = 0; v < variants && elapsed() < seconds; ++v) {
                const uint64_t state = r.s;
                const std::string m = mutate(c, corpus, r);
                // the input being run, for a sanitizer report or a hang (a crash ends the process)
                std::ofstream(last, std::ios::binary | std::ios::trunc).write(m.data(), std::streamsize(m.size()));
                try {
                    run_one(reinterpret_cast<const uint8_t*>(m.data()), m.size());
                } catch (const std::exception& e) {
                    const fs::path crash = dir.parent_path() / ("crash-" + std::to_string(state));
                    std::ofstream(crash, std::ios::binary).write(m.data(), std::streamsize(m.size()));
                    std::cerr << "not an eddl::Error (" << e.what() << "), input saved as " << crash << "\n";
                    return 1;
                }
                ++runs;
            }
        }
        std::cerr << "round " << round << ": " << runs << " inputs, " << elapsed() << " s\n";
    }
    std::cout << "ok: " << runs << " inputs from " << corpus.size() << " files in " << elapsed() << " s\n";
    return 0;
}

#endif
