// EDDL side of the model-zoo benchmarks; the peer is zoo_pytorch.py (same protocol).
//
// ResNet-18 or VGG-16 (eddl/zoo.h, 1000 classes) on random 3x224x224 images, or UNet (depth 4,
// 32 base filters, one sigmoid output) on random 1x128x128 images with random masks:
//   --mode train: train_batch with sgd(0.01, 0.9) and soft_cross_entropy (U-Net: dice), one step
//   per iteration;
//   --mode infer: inference mode (running statistics, no dropout), forward only.
// 2 untimed warm-up iterations, then --iters timed ones; images per second = batch * iters / time.
// Max RSS covers the whole process, warm-up included.
//
// Usage: zoo_bench --model resnet18|vgg16|unet --mode train|infer [--batch B] [--threads N] [--iters K]
//                  [--mem full_mem|mid_mem|low_mem] [--nchw]
//   --nchw: train with NCHW activations everywhere (Net::blocked_training = false), for comparison
// Prints exactly one JSON line to stdout.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

#include <eddl/eddl.h>

using namespace eddl;

int main(int argc, char** argv) try {
    std::string arch = "resnet18", mode = "train", mem = "full_mem";
    int batch = 16, threads = 1, iters = 5;
    bool nchw = false;
    for (int i = 1; i < argc; ++i) {
        const bool has = i + 1 < argc;
        if (!std::strcmp(argv[i], "--model") && has) arch = argv[++i];
        else if (!std::strcmp(argv[i], "--mode") && has) mode = argv[++i];
        else if (!std::strcmp(argv[i], "--batch") && has) batch = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--threads") && has) threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--iters") && has) iters = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--mem") && has) mem = argv[++i];
        else if (!std::strcmp(argv[i], "--nchw")) nchw = true;
        else throw std::invalid_argument(std::string("unknown or incomplete option ") + argv[i]);
    }
    if (arch != "resnet18" && arch != "vgg16" && arch != "unet")
        throw std::invalid_argument("--model must be resnet18, vgg16 or unet");
    if (mode != "train" && mode != "infer") throw std::invalid_argument("--mode must be train or infer");
    if (batch < 1 || threads < 1 || iters < 1) throw std::invalid_argument("--batch, --threads, --iters must be >= 1");

    const bool unet = arch == "unet";
    model net = unet ? UNet({1, 128, 128}, 1, 4, 32)
                     : arch == "resnet18" ? ResNet18({3, 224, 224}, 1000) : VGG16({3, 224, 224}, 1000);
    net->blocked_training = !nchw;
    build(net, sgd(0.01f, 0.9f), {unet ? "dice" : "soft_cross_entropy"}, {}, CS_CPU(threads, mem));
    const tensor x = unet ? Tensor::randn({batch, 1, 128, 128}, 1) : Tensor::randn({batch, 3, 224, 224}, 1);
    tensor y;
    if (unet) {
        y = Tensor::randu({batch, 1, 128, 128}, 2);
        for (int64_t i = 0; i < y->size; ++i) y->ptr[i] = y->ptr[i] > 0.5f ? 1.0f : 0.0f;
    } else {
        y = Tensor::zeros({batch, 1000});
        for (int i = 0; i < batch; ++i) y->set({i, (i * 37) % 1000}, 1.0f);
    }

    auto step = [&] {
        if (mode == "train") train_batch(net, {x}, {y});
        else forward(net, {x});
    };
    if (mode == "infer") set_mode(net, TSMODE);
    for (int i = 0; i < 2; ++i) step();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("{\"peer\": \"eddl\", \"model\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"threads\": %d, "
                "\"mem\": \"%s\", \"layout\": \"%s\", \"images_per_second\": %.3f, \"max_rss_mb\": %.1f}\n",
                arch.c_str(), mode.c_str(), batch, threads, mem.c_str(), nchw ? "nchw" : "blocked", batch * iters / s, ru.ru_maxrss / 1024.0);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "zoo_bench: " << e.what() << "\n";
    return 2;
}
