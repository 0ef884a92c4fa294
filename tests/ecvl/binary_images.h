// Binary test images for labelling, contours and thinning, shared by the tests and the benchmarks:
// smooth random blobs (noise blurred, then thresholded at a density) and salt noise.
#pragma once
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <random>

namespace ecvl_test {

/// w x h, 0/255, about `density` of the pixels set: blobs of size ~ `blur` pixels (blur 0: noise).
inline cv::Mat binary_image(int w, int h, double density, double blur, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    cv::Mat f(h, w, CV_32F);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) f.at<float>(y, x) = u(rng);
    if (blur > 0) cv::GaussianBlur(f, f, cv::Size(0, 0), blur);
    // threshold at the quantile that leaves `density` of the pixels above it
    cv::Mat sorted = f.reshape(1, 1).clone();
    cv::sort(sorted, sorted, cv::SORT_ASCENDING);
    const int idx = std::min(int(sorted.total()) - 1, int((1.0 - density) * double(sorted.total())));
    const float t = density <= 0 ? 2.f : sorted.at<float>(0, idx);
    cv::Mat out = f >= t;  // 0/255
    return out;
}

}  // namespace ecvl_test
