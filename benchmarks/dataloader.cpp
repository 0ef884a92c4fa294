// DLDataset: how fast it delivers batches, and whether it keeps training fed.
//  1. Throughput: RGB PNGs of 400x350 (generated once), decoded, augmented with the paper's
//     Listing 3 (verbatim) and converted to tensors, batches of 50, with 1 and 2 workers; the
//     consumer only takes batches. Images per second.
//  2. Overlap: one epoch of the small Fashion-MNIST CNN on one compute thread, fed by a DLDataset
//     with one worker (reading PNGs from the class-folder tree), against the same epoch on the
//     same images already in memory as tensors. The loader hides its work when the ratio is
//     close to 1 (issue target: at most 1.1).
// Usage: dataloader_bench [--dir DIR] [--images N] [--mnist-limit N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <ecvl/ecvl.h>
#include <ecvl/support_eddl.h>
#include <eddl/eddl.h>

#include "fashion_mnist_png.h"  // examples/pipeline

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const char* kListing3 = R"(SequentialAugmentationContainer
AugResizeDim dims=(100,100)
AugMirror p=0.5
OneOfAugmentationContainer p=0.7
AugGammaContrast gamma=[0,3]
AugBrightness beta=[0,30]
End
OneOfAugmentationContainer p=0.4
AugElasticTransform alpha=[30,120]
sigma=[3,6]
AugGridDistortion num_steps=[2,5]
distort_limit=[-0.3,0.3]
End
AugRotate angle=[-30,30]
End
)";

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// n smooth random RGB pictures with a few shapes, and a classification YAML over them.
fs::path write_pictures(const fs::path& dir, int n) {
    const fs::path yml = dir / "pictures.yml";
    if (fs::exists(yml)) return yml;
    fs::create_directories(dir);
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> u(0, 255);
    std::ofstream y(dir / "pictures.tmp");
    y << "classes: [a, b]\nimages:\n";
    for (int i = 0; i < n; ++i) {
        ecvl::Image img({400, 350, 3}, ecvl::DataType::uint8, "xyc", ecvl::ColorType::RGB);
        const int base[3] = {u(rng), u(rng), u(rng)};
        for (int c = 0; c < 3; ++c)
            for (int yy = 0; yy < 350; ++yy)
                for (int x = 0; x < 400; ++x)
                    img.At<uint8_t>({x, yy, c}) = uint8_t((base[c] + x / 3 + yy / 5 + ((x / 40 + yy / 35) % 2) * 60 + (u(rng) & 15)) % 256);
        const std::string name = "p" + std::to_string(i) + ".png";
        ecvl::ImWrite((dir / name).string(), img);
        y << "  - location: " << name << "\n    label: " << i % 2 << "\n";
    }
    y.close();
    fs::rename(dir / "pictures.tmp", yml);
    return yml;
}

eddl::model small_cnn() {
    using namespace eddl;
    layer in = Input({1, 28, 28});
    layer l = MaxPool2D(ReLu(Conv2D(in, 16, {3, 3})), {2, 2});
    l = MaxPool2D(ReLu(Conv2D(l, 32, {3, 3})), {2, 2});
    layer out = Softmax(Dense(Flatten(l), 10));
    model net = Model({in}, {out});
    set_seed(net, 1);
    build(net, adam(0.002f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(1));
    return net;
}

}  // namespace

int main(int argc, char** argv) try {
    fs::path dir = fs::temp_directory_path() / "dh_dataloader_bench";
    int images = 1000, mnist_limit = 1000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
        else if (!std::strcmp(argv[i], "--images")) images = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--mnist-limit")) mnist_limit = std::atoi(argv[i + 1]);
    }
    // 1. Throughput.
    const fs::path yml = write_pictures(dir / ("pictures" + std::to_string(images)), images);
    const ecvl::AugmentationPtr listing3 = ecvl::AugmentationFactory::FromText(kListing3, "Listing 3");
    std::printf("DLDataset throughput: %d PNGs 400x350 RGB, Listing 3 augmentations, batches of 50\n", images);
    double rate1 = 0;
    for (int workers : {1, 2}) {
        ecvl::DLDataset d(yml, 50, ecvl::DatasetAugmentations({listing3}), ecvl::ColorType::RGB, ecvl::ColorType::GRAY, workers);
        d.Start();
        const auto t0 = Clock::now();
        int n = 0;
        for (int b = 0; b < d.GetNumBatches(); ++b) n += int(std::get<0>(d.GetBatch()).size());
        const double s = seconds_since(t0);
        d.Stop();
        if (workers == 1) rate1 = n / s;
        std::printf("  %d worker%s: %7.1f images/s%s\n", workers, workers > 1 ? "s" : " ", n / s,
                    workers > 1 ? (" (" + std::to_string(n / s / rate1).substr(0, 4) + "x one worker)").c_str() : "");
    }
    // 2. Overlap with training.
    const fs::path mnist = dir / "fashion_mnist_png";
    example::write_fashion_mnist_png(mnist, mnist_limit);
    ecvl::GenerateClassificationDataset(mnist).Dump(mnist / "fm.yml");
    ecvl::Dataset ds(mnist / "fm.yml");
    std::vector<ecvl::AugmentationPtr> per_split(ds.split_.size(), ecvl::AugmentationFactory::FromText("AugToFloat32 divisor=255"));
    ecvl::DLDataset loader(mnist / "fm.yml", 100, ecvl::DatasetAugmentations(per_split), ecvl::ColorType::GRAY,
                           ecvl::ColorType::GRAY, 1);
    loader.SetSplit("training");
    // The same images as in-memory tensors, loaded once beforehand.
    std::vector<eddl::tensor> xs, ys;
    loader.Start();
    for (int b = 0; b < loader.GetNumBatches(); ++b) {
        auto [s, x, y] = loader.GetBatch();
        xs.push_back(x);
        ys.push_back(y);
    }
    loader.Stop();
    const eddl::tensor X = eddl::Tensor::concat(xs, 0), Y = eddl::Tensor::concat(ys, 0);
    eddl::FitOptions quiet;
    quiet.verbose = 0;
    std::printf("Training the small CNN one epoch on %d Fashion-MNIST images, 1 compute thread:\n", X->getShape()[0]);
    double t_mem = 1e30, t_loader = 1e30;
    for (int rep = 0; rep < 3; ++rep) {  // best of 3, alternating
        eddl::model a = small_cnn(), b = small_cnn();
        auto t0 = Clock::now();
        eddl::fit(a, {X}, {Y}, 100, 1, quiet);
        t_mem = std::min(t_mem, seconds_since(t0));
        t0 = Clock::now();
        eddl::fit(b, loader, 1, quiet);
        t_loader = std::min(t_loader, seconds_since(t0));
    }
    std::printf("  tensors in memory:             %6.2f s\n  DLDataset, 1 worker, from PNG: %6.2f s   ratio %.3f (target <= 1.1)\n",
                t_mem, t_loader, t_loader / t_mem);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "dataloader_bench: %s\n", e.what());
    return 2;
}
