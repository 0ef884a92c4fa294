// Single-thread throughput of ECVL augmentations on a set of RGB uint8 images stored as one .npy
// file (N x H x W x 3, written by augment_albumentations.py --make-data), the peer being
// albumentations on the same file (see run_augment.sh and docs/benchmarks.md).
//
// Usage: ecvl_augment_bench --data images.npy [--layout xyc|cxy] [--ops Mirror,Rotate,...] [--warmup 100]
// Prints one JSON line per augmentation: {"peer": "ecvl", "layout": ..., "op": ..., "images_per_s": ...,
// "images_per_cpu_s": ...} (wall-clock and thread-CPU-time rates).
//
// Each augmentation is applied to every image once, timed as a whole. The image handed to Apply
// shares the loaded pixels (as a freshly read image would be the loader's own): augmentations that
// work in place (Mirror, Brightness, GaussianBlur) write into the data set, the others allocate
// their result, as albumentations does for all.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "ecvl/ecvl.h"

using namespace ecvl;

namespace {

struct Data {
    std::shared_ptr<uint8_t[]> bytes;
    int n = 0, h = 0, w = 0, c = 0;
};

// A C-order uint8 .npy of shape (n, h, w, c).
Data load_npy(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    ECVL_CHECK(f.good(), "cannot open " << path);
    char magic[8];
    f.read(magic, 8);
    ECVL_CHECK(std::memcmp(magic, "\x93NUMPY", 6) == 0, path << " is not a .npy file");
    uint32_t hlen = 0;
    if (magic[6] == 1) {
        uint16_t h16 = 0;
        f.read(reinterpret_cast<char*>(&h16), 2);
        hlen = h16;
    } else {
        f.read(reinterpret_cast<char*>(&hlen), 4);
    }
    std::string header(hlen, ' ');
    f.read(header.data(), hlen);
    ECVL_CHECK(header.find("'|u1'") != std::string::npos && header.find("'fortran_order': False") != std::string::npos,
               path << ": needs C-order uint8 data, header " << header);
    Data d;
    const size_t s = header.find("'shape': (");
    ECVL_CHECK(s != std::string::npos, path << ": no shape in " << header);
    std::sscanf(header.c_str() + s + 10, "%d, %d, %d, %d", &d.n, &d.h, &d.w, &d.c);
    ECVL_CHECK(d.n > 0 && d.h > 0 && d.w > 0 && d.c == 3, path << ": shape must be (n, h, w, 3), header " << header);
    const size_t bytes = size_t(d.n) * size_t(d.h) * size_t(d.w) * size_t(d.c);
    d.bytes.reset(new uint8_t[bytes]);
    f.read(reinterpret_cast<char*>(d.bytes.get()), std::streamsize(bytes));
    ECVL_CHECK(size_t(f.gcount()) == bytes, path << ": truncated");
    return d;
}

// CPU time of this thread: on a shared machine, time spent descheduled does not count.
double thread_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// The same augmentations, with the parameters run_augment.sh gives albumentations.
const std::map<std::string, std::string> kOps = {
    {"Mirror", "AugMirror p=1"},
    {"Rotate", "AugRotate angle=[-30,30]"},
    {"ResizeDim", "AugResizeDim dims=(224,224)"},
    {"GaussianBlur", "AugGaussianBlur sigma=[2,2]"},
    {"ElasticTransform", "AugElasticTransform alpha=[34,34] sigma=[4,4]"},
    {"GridDistortion", "AugGridDistortion num_steps=[5,5] distort_limit=[-0.3,0.3]"},
    {"Brightness", "AugBrightness beta=[0,30]"},
    {"Normalize", "AugNormalize mean=(123.675,116.28,103.53) std=(58.395,57.12,57.375)"},
};
const char* kOrder[] = {"Mirror", "Rotate", "ResizeDim", "GaussianBlur", "ElasticTransform", "GridDistortion",
                        "Brightness", "Normalize"};

}  // namespace

int main(int argc, char** argv) {
    std::string data_path, layout = "xyc", ops_arg;
    int warmup = 100;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--data") data_path = next();
        else if (a == "--layout") layout = next();
        else if (a == "--ops") ops_arg = next();
        else if (a == "--warmup") warmup = std::stoi(next());
        else {
            std::cerr << "usage: ecvl_augment_bench --data images.npy [--layout xyc|cxy] [--ops Mirror,Rotate,...] [--warmup N]\n";
            return 2;
        }
    }
    if (data_path.empty() || (layout != "xyc" && layout != "cxy")) {
        std::cerr << "ecvl_augment_bench: --data is required; --layout is xyc (planar) or cxy (interleaved)\n";
        return 2;
    }
    std::vector<std::string> ops;
    if (ops_arg.empty()) {
        for (const char* o : kOrder) ops.emplace_back(o);
    } else {
        std::stringstream ss(ops_arg);
        for (std::string o; std::getline(ss, o, ',');) ops.push_back(o);
    }
    cv::setNumThreads(1);  // OpenCV's own threads off: one core, as the peer

    try {
        const Data d = load_npy(data_path);
        // the images as the pipeline has them: interleaved ones over the loaded bytes, planar ones
        // rearranged once (what ImRead returns) before any timing
        std::vector<Image> images;
        images.reserve(size_t(d.n));
        const size_t one = size_t(d.h) * size_t(d.w) * 3;
        for (int i = 0; i < d.n; ++i) {
            Image inter = Image::Wrap({3, d.w, d.h}, DataType::uint8, "cxy", ColorType::RGB, d.bytes.get() + one * size_t(i),
                                      d.bytes);
            if (layout == "cxy") {
                images.push_back(std::move(inter));
            } else {
                Image planar;
                RearrangeChannels(inter, planar, "xyc");
                images.push_back(std::move(planar));
            }
        }
        for (const std::string& op : ops) {
            const auto it = kOps.find(op);
            ECVL_CHECK(it != kOps.end(), "unknown op " << op);
            const AugmentationPtr aug = AugmentationFactory::FromText(it->second);
            std::mt19937_64 rng(1);
            // a handle owning nothing but sharing the image's pixels (no copy), as a freshly read
            // image is the loader's own: what Apply then replaces or edits in place
            auto handle = [](const Image& src) {
                return Image::Wrap(src.dims_, src.elemtype_, src.channels_, src.colortype_, src.data_, nullptr);
            };
            for (int i = 0; i < std::min(warmup, d.n); ++i) {
                Image img = handle(images[size_t(i)]);
                aug->Apply(img, rng);
            }
            double checksum = 0;
            const double c0 = thread_seconds();
            const auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < d.n; ++i) {
                Image img = handle(images[size_t(i)]);
                aug->Apply(img, rng);
                checksum += double(img.data_[0]);
            }
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const double cpu = thread_seconds() - c0;
            std::printf("{\"peer\": \"ecvl\", \"layout\": \"%s\", \"op\": \"%s\", \"images\": %d, \"seconds\": %.4f, "
                        "\"cpu_seconds\": %.4f, \"images_per_s\": %.1f, \"images_per_cpu_s\": %.1f, \"text\": \"%s\", "
                        "\"checksum\": %.0f}\n",
                        layout.c_str(), op.c_str(), d.n, s, cpu, d.n / s, d.n / cpu, it->second.c_str(), checksum);
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::cerr << "ecvl_augment_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
