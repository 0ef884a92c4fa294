// Debian's Fashion-MNIST (IDX) written out as PNG files in a class-folder tree,
// <out>/{training,test}/<class>/<n>.png, for the pipelines that start from image files.
#pragma once
#include <filesystem>
#include <fstream>
#include <iostream>

#include <ecvl/ecvl.h>
#include <eddl/eddl.h>

#include "../eddl/fashion_mnist.h"

namespace example {

inline const char* const kFashionClasses[10] = {"tshirt_top", "trouser", "pullover", "dress", "coat",
                                                "sandal",     "shirt",   "sneaker",  "bag",   "ankle_boot"};

/// One IDX split ("train" or "test") as PNGs under dir/<class>/, at most `limit` per class.
inline void write_fashion_mnist_split(const std::string& idx_split, const std::filesystem::path& dir, int limit) {
    eddl::tensor x, y;
    load_fashion_mnist(idx_split, x, y);
    const eddl::tensor label = y->argmax(1);
    std::vector<int> written(10, 0);
    for (int i = 0; i < x->getShape()[0]; ++i) {
        const int c = int(label->get({i}));
        if (written[size_t(c)] >= limit) continue;
        ecvl::Image img({28, 28}, ecvl::DataType::uint8, "xy", ecvl::ColorType::none);
        for (int p = 0; p < 784; ++p) img.data_[p] = uint8_t(x->get({i, p}));
        const std::filesystem::path folder = dir / kFashionClasses[c];
        std::filesystem::create_directories(folder);
        ecvl::ImWrite((folder / (std::to_string(i) + ".png")).string(), img);
        ++written[size_t(c)];
    }
}

/// The whole tree under `out` (training and test), unless a complete one with the same limit is
/// already there: a marker file written last records the limit, so an interrupted run starts over.
inline void write_fashion_mnist_png(const std::filesystem::path& out, int limit) {
    const std::filesystem::path done = out / ".complete";
    const std::string stamp = "limit " + std::to_string(limit);
    std::string have;
    if (std::ifstream in(done); in) std::getline(in, have);
    if (have == stamp) return;
    std::filesystem::remove_all(out);
    std::cout << "Writing Fashion-MNIST as PNG files under " << out << "\n";
    write_fashion_mnist_split("train", out / "training", limit);
    write_fashion_mnist_split("test", out / "test", limit);
    std::ofstream(done) << stamp << "\n";
}

}  // namespace example
