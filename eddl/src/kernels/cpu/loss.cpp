// Loss values and their gradients over a [rows, cols] batch.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {
namespace {
constexpr float kEps = 1e-7f;  // keeps log() finite for saturated probabilities (Keras' epsilon)
}

double loss(LossKind k, const float* y, const float* t, float* delta, int64_t rows, int64_t cols, float scale,
            bool accumulate) {
    const float inv = 1.0f / scale;
    double total = 0;
    auto put = [&](int64_t i, float v) { delta[i] = accumulate ? delta[i] + v : v; };
#pragma omp parallel for reduction(+ : total) if (rows * cols >= kParallelGrain) schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
        const float* yr = y + r * cols;
        const float* tr = t + r * cols;
        const int64_t base = r * cols;
        double row = 0;
        switch (k) {
            case LossKind::MSE:
                for (int64_t c = 0; c < cols; ++c) {
                    const float d = yr[c] - tr[c];
                    row += double(d) * d;
                    put(base + c, 2.0f * d * inv);
                }
                break;
            case LossKind::MAE:
                for (int64_t c = 0; c < cols; ++c) {
                    const float d = yr[c] - tr[c];
                    row += std::fabs(d);
                    put(base + c, (d > 0 ? 1.0f : (d < 0 ? -1.0f : 0.0f)) * inv);
                }
                break;
            case LossKind::CCE:
                for (int64_t c = 0; c < cols; ++c) {
                    const float p = std::max(yr[c], kEps);
                    row -= double(tr[c]) * std::log(p);
                    put(base + c, -tr[c] / p * inv);
                }
                break;
            case LossKind::BCE:
                for (int64_t c = 0; c < cols; ++c) {
                    const float p = std::clamp(yr[c], kEps, 1.0f - kEps);
                    row -= double(tr[c]) * std::log(p) + double(1.0f - tr[c]) * std::log(1.0f - p);
                    put(base + c, (p - tr[c]) / (p * (1.0f - p)) * inv);
                }
                break;
            case LossKind::BCELogits:
                for (int64_t c = 0; c < cols; ++c) {
                    const float z = yr[c], t = tr[c];
                    row += std::max(z, 0.0f) - z * t + std::log1p(std::exp(-std::fabs(z)));
                    put(base + c, (1.0f / (1.0f + std::exp(-z)) - t) * inv);
                }
                break;
            case LossKind::Dice: {
                double inter = 0, uni = 0;
                for (int64_t c = 0; c < cols; ++c) {
                    inter += double(yr[c]) * tr[c];
                    uni += double(yr[c]) + tr[c];
                }
                const double num = 2 * inter + 1, den = uni + 1;
                row += 1.0 - num / den;
                for (int64_t c = 0; c < cols; ++c)
                    put(base + c, float(-(2.0 * tr[c] * den - num) / (den * den)) * inv);
                break;
            }
            case LossKind::Focal: {
                constexpr float g = 2.0f, a = 0.25f;
                for (int64_t c = 0; c < cols; ++c) {
                    const float p = std::clamp(yr[c], kEps, 1.0f - kEps), t = tr[c];
                    const float lp = std::log(p), lq = std::log(1.0f - p);
                    row += -a * t * (1 - p) * (1 - p) * lp - (1 - a) * (1 - t) * p * p * lq;
                    const float dp = a * t * (g * (1 - p) * lp - (1 - p) * (1 - p) / p) -
                                     (1 - a) * (1 - t) * (g * p * lq - p * p / (1 - p));
                    put(base + c, dp * inv);
                }
                break;
            }
            case LossKind::SCE: {
                // y holds logits: loss = sum_c t_c (logsumexp(z) - z_c), stable through the max shift
                float m = -std::numeric_limits<float>::infinity();
                for (int64_t c = 0; c < cols; ++c) m = std::max(m, yr[c]);
                double z = 0, tsum = 0;
                for (int64_t c = 0; c < cols; ++c) z += std::exp(double(yr[c] - m));
                const double lse = m + std::log(z);
                for (int64_t c = 0; c < cols; ++c) {
                    row += double(tr[c]) * (lse - yr[c]);
                    tsum += tr[c];
                }
                for (int64_t c = 0; c < cols; ++c) {
                    const float p = float(std::exp(double(yr[c]) - lse));
                    put(base + c, (p * float(tsum) - tr[c]) * inv);
                }
                break;
            }
        }
        total += row;
    }
    return total;
}

}  // namespace eddl::cpu
