// The "use case pipeline" of the paper on Fashion-MNIST, end to end through files:
//   1. Debian's Fashion-MNIST (IDX) written out once as PNG files in a class-folder tree
//      <out>/{training,test}/<class>/<n>.png,
//   2. the tree turned into a DeepHealth Dataset Format file by the generator,
//   3. training augmentations read from a text file (mnist_augmentations.txt),
//   4. a small CNN trained by fit() straight from a DLDataset that reads, augments and converts
//      the PNGs on worker threads, then evaluated on the test split.
// Usage: mnist_pipeline [--out DIR] [--limit N] [--epochs N] [--workers N] [--threads N]
//                       [--augmentations FILE] [--min-accuracy A]
//   --limit N: at most N images per class and split (the whole dataset by default).
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <ecvl/ecvl.h>
#include <ecvl/support_eddl.h>
#include <eddl/eddl.h>

#include "../eddl/example_args.h"
#include "fashion_mnist_png.h"

namespace fs = std::filesystem;
using namespace eddl;

int main(int argc, char** argv) try {
    fs::path out = "fashion_mnist_png", aug_file = fs::path(EXAMPLE_SOURCE_DIR) / "mnist_augmentations.txt";
    int limit = 1 << 30, workers = 2;
    // The pipeline's own options first; the rest are the common example options.
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i) {
        const bool has_value = i + 1 < argc;
        if (!std::strcmp(argv[i], "--out") && has_value) out = argv[++i];
        else if (!std::strcmp(argv[i], "--limit") && has_value) limit = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--workers") && has_value) workers = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--augmentations") && has_value) aug_file = argv[++i];
        else rest.push_back(argv[i]);
    }
    const example::Args args = example::parse_args(int(rest.size()), rest.data(), 3);

    // 1. PNG tree, once (a marker file says it is complete, so an interrupted run starts over).
    example::write_fashion_mnist_png(out, limit);
    // 2. The dataset file.
    const fs::path yml = out / "fashion_mnist.yml";
    ecvl::GenerateClassificationDataset(out).Dump(yml);
    // 3. Augmentations per split: from the text file for training; test images only rescaled.
    ecvl::Dataset ds(yml);
    std::vector<ecvl::AugmentationPtr> per_split;
    for (const ecvl::Split& s : ds.split_)
        per_split.push_back(s.split_name_ == "training" ? ecvl::AugmentationFactory::create(aug_file)
                                                        : ecvl::AugmentationFactory::FromText("AugToFloat32 divisor=255"));
    // 4. Loader and network.
    ecvl::DLDataset data(yml, 100, ecvl::DatasetAugmentations(per_split), ecvl::ColorType::GRAY, ecvl::ColorType::GRAY, workers);
    data.SetSplit("training");
    std::cout << data.GetNumSamples() << " images, " << data.GetNumBatches() << " training batches of 100, " << workers
              << " loader workers\n";

    layer in = Input({1, 28, 28});
    layer l = MaxPool2D(ReLu(Conv2D(in, 16, {3, 3})), {2, 2});
    l = MaxPool2D(ReLu(Conv2D(l, 32, {3, 3})), {2, 2});
    layer outl = Softmax(Dense(Dropout(Flatten(l), 0.25f), 10));
    model net = Model({in}, {outl});
    build(net, adam(0.002f), {"soft_cross_entropy"}, {"categorical_accuracy"}, CS_CPU(args.threads));

    fit(net, data, args.epochs);
    auto test = data.Source("test");
    const double acc = evaluate(net, test).at("categorical_accuracy");
    return example::report_score("accuracy", acc, args.min_score);
} catch (const std::exception& e) {
    std::cerr << "mnist_pipeline: " << e.what() << "\n";
    return 2;
}
