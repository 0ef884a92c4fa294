// ECVL's native shape analysis against OpenCV in the same run, on the same 1024x1024 binary
// images (blobs and noise of several densities), both on one thread: connected components (labels
// only, and with statistics), contours, and thinning (against cv::ximgproc::thinning when the
// build found opencv_contrib's ximgproc; the outputs are checked identical). Prints the ratio
// OpenCV time / ECVL time (> 1: ECVL faster).
// Usage: ecvl_analysis_bench [--reps N] [--thin-reps N]   (median of N runs; defaults 21 and 1)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <ecvl/ecvl.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#ifdef ECVL_BENCH_XIMGPROC
#include <opencv2/ximgproc.hpp>
#endif

#include "ecvl/binary_images.h"  // tests/ecvl

using namespace ecvl;

namespace {
// Median of reps runs of each, alternating the two sides so both see the same machine load.
std::pair<double, double> median_ms(int reps, const std::function<void()>& a, const std::function<void()>& b) {
    a();
    b();
    std::vector<double> ta, tb;
    for (int i = 0; i < reps; ++i) {
        for (int side = 0; side < 2; ++side) {
            const auto t0 = std::chrono::steady_clock::now();
            (side ? b : a)();
            (side ? tb : ta).push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
    }
    std::nth_element(ta.begin(), ta.begin() + reps / 2, ta.end());
    std::nth_element(tb.begin(), tb.begin() + reps / 2, tb.end());
    return {ta[size_t(reps / 2)], tb[size_t(reps / 2)]};
}

void row(const char* op, const char* img, std::pair<double, double> t) {
    std::printf("%-24s %-16s ecvl %8.2f ms   opencv %8.2f ms   opencv/ecvl %5.2fx\n", op, img, t.first, t.second,
                t.second / t.first);
    std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
    int reps = 21, thin_reps = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--thin-reps")) thin_reps = std::atoi(argv[i + 1]);
    }
    cv::setNumThreads(1);
    const int N = 1024;
    struct Input {
        std::string name;
        cv::Mat m;
        Image img;
    };
    std::vector<Input> inputs;
    for (double d : {0.1, 0.3, 0.5, 0.7, 0.9}) inputs.push_back({"blobs d" + std::to_string(d).substr(0, 3), ecvl_test::binary_image(N, N, d, 6, 1), {}});
    for (double d : {0.1, 0.5, 0.9}) inputs.push_back({"noise d" + std::to_string(d).substr(0, 3), ecvl_test::binary_image(N, N, d, 0, 2), {}});
    for (Input& in : inputs) {
        in.img = Image({N, N}, DataType::uint8, "xy", ColorType::none);
        std::memcpy(in.img.data_, in.m.data, size_t(N) * N);
    }
    std::printf("1024x1024 binary images, 1 thread each side, median of %d runs\n", reps);
    Image labels;
    cv::Mat cvl, st, cen;
    std::vector<ComponentStats> stats;
    for (int conn : {8, 4})
        for (const Input& in : inputs)
            row(conn == 8 ? "CCL 8-conn" : "CCL 4-conn", in.name.c_str(),
                median_ms(reps, [&] { ConnectedComponentsLabeling(in.img, labels, conn); },
                          [&] { cv::connectedComponents(in.m, cvl, conn, CV_32S); }));
    for (const Input& in : inputs)
        row("CCL 8-conn + stats", in.name.c_str(),
            median_ms(reps, [&] { ConnectedComponentsLabeling(in.img, labels, stats, 8); },
                      [&] { cv::connectedComponentsWithStats(in.m, cvl, st, cen, 8, CV_32S); }));
    std::vector<std::vector<Point2i>> contours;
    std::vector<ContourHierarchy> hierarchy;
    std::vector<std::vector<cv::Point>> cvc;
    std::vector<cv::Vec4i> cvh;
    for (const Input& in : inputs)
        row("FindContours list", in.name.c_str(),
            median_ms(reps, [&] { FindContours(in.img, contours); },
                      [&] { cv::findContours(in.m, cvc, cv::RETR_LIST, cv::CHAIN_APPROX_NONE); }));
    for (const Input& in : inputs)
        row("FindContours tree", in.name.c_str(),
            median_ms(reps, [&] { FindContours(in.img, contours, hierarchy); },
                      [&] { cv::findContours(in.m, cvc, cvh, cv::RETR_TREE, cv::CHAIN_APPROX_NONE); }));
#ifdef ECVL_BENCH_XIMGPROC
    // Thinning: OpenCV's takes up to seconds per image, so fewer runs; outputs must be identical.
    for (ThinningType t : {ThinningType::ZHANGSUEN, ThinningType::GUOHALL})
        for (const Input& in : inputs) {
            const int cvt = t == ThinningType::ZHANGSUEN ? cv::ximgproc::THINNING_ZHANGSUEN : cv::ximgproc::THINNING_GUOHALL;
            Image skel;
            cv::Mat cvs;
            Skeletonization(in.img, skel, t);
            cv::ximgproc::thinning(in.m, cvs, cvt);
            if (std::memcmp(skel.data_, cvs.data, size_t(N) * N) != 0) {
                std::printf("Skeletonization differs from cv::ximgproc::thinning on %s\n", in.name.c_str());
                return 1;
            }
            row(t == ThinningType::ZHANGSUEN ? "Thinning Zhang-Suen" : "Thinning Guo-Hall", in.name.c_str(),
                median_ms(thin_reps, [&] { Skeletonization(in.img, skel, t); }, [&] { cv::ximgproc::thinning(in.m, cvs, cvt); }));
        }
#else
    std::printf("thinning: not compared (opencv_contrib's ximgproc was not found when this was built)\n");
#endif
    return 0;
}
