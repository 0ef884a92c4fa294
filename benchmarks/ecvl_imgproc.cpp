// ECVL's OpenCV-backed processing against OpenCV called directly on the same buffer: the ratio
// shows what the Image layer costs (issue 4: within 1.1x). A 1920x1080 BGR uint8 image,
// interleaved "cxy" (the layout OpenCV uses, so both sides read the same memory); planar "xyc"
// is timed too (ECVL processes it plane by plane, OpenCV gets the interleaved copy).
// Usage: ecvl_imgproc_bench [--reps N]   (best of N runs of each; default 15). One line per op.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include <ecvl/ecvl.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

using namespace ecvl;

namespace {
double best_ms(int reps, const std::function<void()>& f) {
    f();  // warm-up
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}
}  // namespace

int main(int argc, char** argv) {
    int reps = 15;
    if (argc == 3 && !std::strcmp(argv[1], "--reps")) reps = std::atoi(argv[2]);
    cv::setNumThreads(1);  // both sides on one thread: the ratio is the Image layer's cost
    const int W = 1920, H = 1080;
    Image inter({3, W, H}, DataType::uint8, "cxy", ColorType::BGR);
    for (size_t i = 0; i < inter.Elements(); ++i) inter.data_[i] = uint8_t((i * 2654435761u) >> 24);
    Image planar;
    RearrangeChannels(inter, planar, "xyc");
    const cv::Mat m(H, W, CV_8UC3, inter.data_);
    cv::Mat out;
    Image e;
    struct Op {
        const char* name;
        std::function<void(const Image&, Image&)> ecvl;
        std::function<void()> cv;
    } ops[] = {
        {"ResizeDim 960x540 linear", [](const Image& s, Image& d) { ResizeDim(s, d, {960, 540}); },
         [&] { cv::resize(m, out, cv::Size(960, 540), 0, 0, cv::INTER_LINEAR); }},
        {"Rotate2D 15 deg", [](const Image& s, Image& d) { Rotate2D(s, d, 15.0); },
         [&] {
             cv::warpAffine(m, out, cv::getRotationMatrix2D(cv::Point2f((W - 1) / 2.0f, (H - 1) / 2.0f), 15.0, 1.0), m.size());
         }},
        {"GaussianBlur 5x5 s1.5", [](const Image& s, Image& d) { GaussianBlur(s, d, 5, 5, 1.5); },
         [&] { cv::GaussianBlur(m, out, cv::Size(5, 5), 1.5, 1.5, cv::BORDER_REFLECT_101); }},
        {"ChangeColorSpace BGR->GRAY", [](const Image& s, Image& d) { ChangeColorSpace(s, d, ColorType::GRAY); },
         [&] { cv::cvtColor(m, out, cv::COLOR_BGR2GRAY); }},
        {"ChangeColorSpace BGR->HSV", [](const Image& s, Image& d) { ChangeColorSpace(s, d, ColorType::HSV); },
         [&] { cv::cvtColor(m, out, cv::COLOR_BGR2HSV_FULL); }},
    };
    std::printf("%-28s %10s %12s %12s %14s %14s\n", "op (1920x1080 BGR uint8)", "opencv ms", "ecvl cxy ms",
                "ecvl xyc ms", "cxy / opencv", "xyc / opencv");
    for (const Op& op : ops) {
        const double c = best_ms(reps, op.cv);
        const double ei = best_ms(reps, [&] { op.ecvl(inter, e); });
        const double ep = best_ms(reps, [&] { op.ecvl(planar, e); });
        std::printf("%-28s %10.3f %12.3f %12.3f %14.2f %14.2f\n", op.name, c, ei, ep, ei / c, ep / c);
    }
    std::printf("(best of %d; ratios > 1: ECVL slower. OpenCV single-threaded on both sides.)\n", reps);
    return 0;
}
