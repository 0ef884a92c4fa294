// Per-element parameter updates of every optimizer (PyTorch's formulas, so results compare).
#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {

namespace {

// SGD is the hot case (one pass over every weight per step): a branch-free loop on restrict
// pointers that the compiler vectorizes, instead of the generic switch below.
template <bool Momentum, bool Nesterov>
EDDL_MULTIVERSION void sgd_chunk(float lr, float m, float wd, float* __restrict w, const float* __restrict g, float* __restrict v,
               int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * w[i];
        if constexpr (Momentum) {
            const float vi = m * v[i] + gi;
            v[i] = vi;
            w[i] -= lr * (Nesterov ? gi + m * vi : vi);
        } else {
            w[i] -= lr * gi;
        }
    }
}

// Every other rule: one pass per parameter chunk on restrict pointers, compiled per ISA.
EDDL_MULTIVERSION void rule_chunk(const OptimStep& st, float bc1, float bc2, float* __restrict w,
                                  const float* __restrict g, float* __restrict s1, float* __restrict s2,
                                  float* __restrict s3, int64_t lo, int64_t hi) {
    const float lr = st.lr, wd = st.weight_decay, eps = st.eps;
    switch (st.rule) {
    case OptimRule::SGD:  // sgd_chunk
        break;
    case OptimRule::Adam: case OptimRule::AdamW:
        for (int64_t i = lo; i < hi; ++i) {
            float gi = g[i];
            if (st.rule == OptimRule::AdamW) w[i] -= lr * wd * w[i];
            else gi += wd * w[i];
            s1[i] = st.beta1 * s1[i] + (1.0f - st.beta1) * gi;
            s2[i] = st.beta2 * s2[i] + (1.0f - st.beta2) * gi * gi;
            float v = s2[i];
            if (st.amsgrad) v = s3[i] = std::max(s3[i], s2[i]);
            w[i] -= lr * (s1[i] / bc1) / (std::sqrt(v / bc2) + eps);
        }
        break;
    case OptimRule::RMSProp:
        for (int64_t i = lo; i < hi; ++i) {
            const float gi = g[i] + wd * w[i];
            s1[i] = st.rho * s1[i] + (1.0f - st.rho) * gi * gi;
            w[i] -= lr * gi / (std::sqrt(s1[i]) + eps);
        }
        break;
    case OptimRule::Adagrad:
        for (int64_t i = lo; i < hi; ++i) {
            const float gi = g[i] + wd * w[i];
            s1[i] += gi * gi;
            w[i] -= lr * gi / (std::sqrt(s1[i]) + eps);
        }
        break;
    case OptimRule::Adadelta:
        for (int64_t i = lo; i < hi; ++i) {
            const float gi = g[i] + wd * w[i];
            s1[i] = st.rho * s1[i] + (1.0f - st.rho) * gi * gi;
            const float d = std::sqrt(s2[i] + eps) / std::sqrt(s1[i] + eps) * gi;
            s2[i] = st.rho * s2[i] + (1.0f - st.rho) * d * d;
            w[i] -= lr * d;
        }
        break;
    case OptimRule::Adamax:
        for (int64_t i = lo; i < hi; ++i) {
            const float gi = g[i] + wd * w[i];
            s1[i] = st.beta1 * s1[i] + (1.0f - st.beta1) * gi;
            s2[i] = std::max(st.beta2 * s2[i], std::fabs(gi) + eps);
            w[i] -= lr / bc1 * s1[i] / s2[i];
        }
        break;
    case OptimRule::Nadam: {
        const float c_g = float(lr * (1.0 - st.mu_t) / (1.0 - st.mu_prod));
        const float c_m = float(lr * st.mu_t1 / (1.0 - st.mu_prod1));
        for (int64_t i = lo; i < hi; ++i) {
            const float gi = g[i] + wd * w[i];
            s1[i] = st.beta1 * s1[i] + (1.0f - st.beta1) * gi;
            s2[i] = st.beta2 * s2[i] + (1.0f - st.beta2) * gi * gi;
            const float denom = std::sqrt(s2[i] / bc2) + eps;
            w[i] -= (c_g * gi + c_m * s1[i]) / denom;
        }
        break;
    }
    }
}

}  // namespace

void optim_update(const OptimStep& st, float* w, const float* g, float* s1, float* s2, float* s3, int64_t n) {
    if (st.rule == OptimRule::SGD) {
        parallel_chunks(n, [&](int64_t lo, int64_t hi) {
            const float lr = st.lr, m = st.momentum, wd = st.weight_decay;
            if (m == 0.0f) sgd_chunk<false, false>(lr, m, wd, w + lo, g + lo, nullptr, hi - lo);
            else if (st.nesterov) sgd_chunk<true, true>(lr, m, wd, w + lo, g + lo, s1 + lo, hi - lo);
            else sgd_chunk<true, false>(lr, m, wd, w + lo, g + lo, s1 + lo, hi - lo);
        });
        return;
    }
    const float bc1 = 1.0f - float(std::pow(double(st.beta1), double(st.t)));
    const float bc2 = 1.0f - float(std::pow(double(st.beta2), double(st.t)));
    parallel_chunks(n, [&](int64_t lo, int64_t hi) { rule_chunk(st, bc1, bc2, w, g, s1, s2, s3, lo, hi); });
}

}  // namespace eddl::cpu
