// Batch and group normalization on NCHW, and batch normalization on nChw8c (AVX2), one OpenMP task
// per channel (block, group); sums in double for stable statistics, in independent lanes so that
// they vectorize (oneDNN's took twice our time on NCHW). On nChw16c (AVX-512) batch normalization
// runs on oneDNN's JIT primitive, the fast path on that layout (ResNet-18's 20 at batch 16: 29 ms
// per step against our 45 on NCHW).
#include <cmath>
#include <map>
#include <mutex>
#include <tuple>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/onednn.h"

namespace eddl::cpu {
namespace {

// Sums in double over 16 independent lanes: one running sum is a chain of dependent adds (4
// cycles each), several times slower than reading the memory; lanes vectorize and overlap.
// Batch normalization reads panels of n floats whose element j belongs to channel j % B: one
// image's plane in NCHW (B = 1), or one image's block of B channels in the blocked layout (B = 8,
// 16); B divides kLanes, so lane k of these sums holds channel k % B.
constexpr int kLanes = 16;
using Lanes = double[kLanes];

double total(const Lanes& acc) {
    double s = 0;
    for (double a : acc) s += a;
    return s;
}

// out[l] = the sum of the lanes of channel l
void fold(const Lanes& acc, int B, double* out) {
    for (int l = 0; l < B; ++l) out[l] = 0;
    for (int k = 0; k < kLanes; ++k) out[k % B] += acc[k];
}

// acc += p, lane-wise (a tail shorter than kLanes starts at a multiple of B: same lanes)
EDDL_MULTIVERSION void add_sums(const float* p, int64_t n, Lanes& acc) {
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int k = 0; k < kLanes; ++k) acc[k] += double(p[j + k]);
    for (int k = 0; j + k < n; ++k) acc[k] += double(p[j + k]);
}

// acc += (p - mu)^2, mu per lane
EDDL_MULTIVERSION void add_sq_devs(const float* p, int64_t n, const Lanes& mu, Lanes& acc) {
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int k = 0; k < kLanes; ++k) {
            const double d = double(p[j + k]) - mu[k];
            acc[k] += d * d;
        }
    for (int k = 0; j + k < n; ++k) acc[k] += (double(p[j + k]) - mu[k]) * (double(p[j + k]) - mu[k]);
}

// a += dy, b += dy * (x - mu)
EDDL_MULTIVERSION void add_dy_sums(const float* x, const float* dy, int64_t n, const Lanes& mu, Lanes& a, Lanes& b) {
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int k = 0; k < kLanes; ++k) {
            a[k] += double(dy[j + k]);
            b[k] += double(dy[j + k]) * (double(x[j + k]) - mu[k]);
        }
    for (int k = 0; j + k < n; ++k) {
        a[k] += double(dy[j + k]);
        b[k] += double(dy[j + k]) * (double(x[j + k]) - mu[k]);
    }
}

// q = a * p + b, per lane
EDDL_MULTIVERSION void scale_shift(const float* p, float* q, int64_t n, const float (&a)[kLanes], const float (&b)[kLanes]) {
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int k = 0; k < kLanes; ++k) q[j + k] = a[k] * p[j + k] + b[k];
    for (int k = 0; j + k < n; ++k) q[j + k] = a[k] * p[j + k] + b[k];
}

// dx (+)= k * (dy - mdy - (x - mu) * c), per lane
struct DxTerms {
    float k[kLanes], mdy[kLanes], mu[kLanes], c[kLanes];
};
EDDL_MULTIVERSION void bn_dx(const float* x, const float* dy, float* dx, int64_t n, const DxTerms& t, bool accumulate) {
    auto v = [&](int64_t j, int k) { return t.k[k] * (dy[j] - t.mdy[k] - (x[j] - t.mu[k]) * t.c[k]); };
    int64_t j = 0;
    if (accumulate) {
        for (; j + kLanes <= n; j += kLanes)
            for (int k = 0; k < kLanes; ++k) dx[j + k] += v(j + k, k);
        for (int k = 0; j + k < n; ++k) dx[j + k] += v(j + k, k);
    } else {
        for (; j + kLanes <= n; j += kLanes)
            for (int k = 0; k < kLanes; ++k) dx[j + k] = v(j + k, k);
        for (int k = 0; j + k < n; ++k) dx[j + k] = v(j + k, k);
    }
}

double sum_of(const float* p, int64_t n) {
    Lanes acc = {};
    add_sums(p, n, acc);
    return total(acc);
}

double sq_dev_of(const float* p, int64_t n, double mu) {
    Lanes m, acc = {};
    for (double& v : m) v = mu;
    add_sq_devs(p, n, m, acc);
    return total(acc);
}

// lane k of v = per[k % B]
template <class T, class U>
void spread(T (&v)[kLanes], const U* per, int B) {
    for (int k = 0; k < kLanes; ++k) v[k] = T(per[k % B]);
}

// ---- blocked (nChw16c or nChw8c, see block_channels): oneDNN ----

struct NormPrims {
    memory::desc data, stat;
    dnnl::batch_normalization_forward::primitive_desc fpd;
    dnnl::batch_normalization_forward fwd;
    dnnl::batch_normalization_backward bwd;
};

// affine: scale and shift (whose gradients backward then computes: oneDNN has no backward_data
// with a shift); global: running statistics (inference mode)
const NormPrims& norm_prims(const NormGeom& g, bool affine, bool global) {
    using Flags = dnnl::normalization_flags;
    return cached(std::make_tuple(g.n, g.c, g.s, g.eps, affine, global), [&] {
        const int b = block_channels();
        EDDL_CHECK(b && g.c % b == 0, "blocked batch normalization needs whole blocks of " << b << " channels, got " << g.c);
        NormPrims p;
        // [N][C/b][s][b] is the blocked layout with H = 1, W = s
        p.data = memory::desc({g.n, g.c, 1, g.s}, f32, blocked_tag());
        p.stat = memory::desc({g.c}, f32, tag::x);
        Flags flags = Flags::none;
        if (affine) flags = flags | Flags::use_scale | Flags::use_shift;
        if (global) flags = flags | Flags::use_global_stats;
        auto& eng = onednn_engine();
        p.fpd = dnnl::batch_normalization_forward::primitive_desc(
            dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, p.data, g.eps, flags), eng);
        p.fwd = dnnl::batch_normalization_forward(p.fpd);
        const auto prop = affine ? dnnl::prop_kind::backward : dnnl::prop_kind::backward_data;
        p.bwd = dnnl::batch_normalization_backward(dnnl::batch_normalization_backward::primitive_desc(
            dnnl::batch_normalization_backward::desc(prop, p.data, p.data, g.eps, flags), eng, p.fpd));
        return p;
    });
}

void batchnorm_blocked(const NormGeom& g, const float* x, const float* gamma, const float* beta, float* y, float* mean,
                       float* invstd, float* rmean, float* rvar, float momentum, bool training) {
    onednn_guarded("batch normalization", g.n, g.c, 1, g.s, [&] {
        const NormPrims& p = norm_prims(g, gamma != nullptr, !training);
        thread_local std::vector<float> var_buf;
        float* var = grown(var_buf, g.c);
        if (!training) {
            copy(rmean, mean, g.c);
            copy(rvar, var, g.c);
        }
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, onednn_mem(p.data, x)}, {DNNL_ARG_DST, onednn_mem(p.data, y)},
                                             {DNNL_ARG_MEAN, onednn_mem(p.stat, mean)}, {DNNL_ARG_VARIANCE, onednn_mem(p.stat, var)}};
        if (gamma) {
            args.insert({DNNL_ARG_SCALE, onednn_mem(p.stat, gamma)});
            args.insert({DNNL_ARG_SHIFT, onednn_mem(p.stat, beta)});
        }
        p.fwd.execute(onednn_stream(), args);
        onednn_stream().wait();
        const int64_t m = g.n * g.s;
        for (int64_t c = 0; c < g.c; ++c) {
            invstd[c] = float(1.0 / std::sqrt(double(var[c]) + g.eps));
            if (!training) continue;
            // running variance unbiased, as the NCHW kernel and PyTorch keep it
            const float unbiased = m > 1 ? float(double(var[c]) * double(m) / double(m - 1)) : var[c];
            rmean[c] = momentum * rmean[c] + (1.0f - momentum) * mean[c];
            rvar[c] = momentum * rvar[c] + (1.0f - momentum) * unbiased;
        }
    });
}

void batchnorm_blocked_backward(const NormGeom& g, const float* x, const float* dy, const float* gamma,
                                const float* mean, const float* invstd, float* dx, float* dgamma, float* dbeta,
                                bool training, bool accumulate_dx, bool accumulate_grads) {
    onednn_guarded("batch normalization backward", g.n, g.c, 1, g.s, [&] {
        const NormPrims& p = norm_prims(g, gamma != nullptr, !training);
        thread_local std::vector<float> var_buf, dx_buf, dg_buf;
        float* var = grown(var_buf, g.c);
        // the variance back from 1 / sqrt(var + eps): the primitive reads only var + eps
        for (int64_t c = 0; c < g.c; ++c) var[c] = float(1.0 / (double(invstd[c]) * double(invstd[c])) - g.eps);
        const int64_t n = g.n * g.c * g.s;
        float* out = !dx || accumulate_dx ? grown(dx_buf, n) : dx;
        float* dss = gamma ? grown(dg_buf, 2 * g.c) : nullptr;  // scale then shift
        std::unordered_map<int, memory> args{
            {DNNL_ARG_SRC, onednn_mem(p.data, x)},      {DNNL_ARG_DIFF_DST, onednn_mem(p.data, dy)},
            {DNNL_ARG_MEAN, onednn_mem(p.stat, mean)},  {DNNL_ARG_VARIANCE, onednn_mem(p.stat, var)},
            {DNNL_ARG_DIFF_SRC, onednn_mem(p.data, out)}};
        if (gamma) {
            args.insert({DNNL_ARG_SCALE, onednn_mem(p.stat, gamma)});
            // oneDNN 2.6 wants the shift given to backward too, though the result does not depend on it
            args.insert({DNNL_ARG_SHIFT, onednn_mem(p.stat, gamma)});
            args.insert({DNNL_ARG_DIFF_SCALE, onednn_mem(p.stat, dss)});
            args.insert({DNNL_ARG_DIFF_SHIFT, onednn_mem(p.stat, dss + g.c)});
        }
        p.bwd.execute(onednn_stream(), args);
        onednn_stream().wait();
        if (dx && accumulate_dx) axpby(1.0f, out, 1.0f, dx, n);
        if (dgamma) {
            axpby(1.0f, dss, accumulate_grads ? 1.0f : 0.0f, dgamma, g.c);
            axpby(1.0f, dss + g.c, accumulate_grads ? 1.0f : 0.0f, dbeta, g.c);
        }
    });
}

}  // namespace

// Our loops run NCHW, and the blocked layout where oneDNN's kernel lost accuracy: with AVX2
// (nChw8c) its statistics and gradient sums in float put ResNet-18's first-layer SGD step 6.5e-3
// from float64 (PyTorch 1.2e-3, these loops 1.1e-3); its AVX-512 kernel (nChw16c) was fine.
static bool onednn_norm(const NormGeom& g) { return g.blocked && block_channels() == 16; }

// Channels per panel (see kLanes): 1 on NCHW, the block size on the blocked layout.
static int lanes_per_panel(const NormGeom& g) { return g.blocked ? block_channels() : 1; }

void batchnorm(const NormGeom& g, const float* x, const float* gamma, const float* beta, float* y, float* mean,
               float* invstd, float* rmean, float* rvar, float momentum, bool training) {
    if (onednn_norm(g)) return batchnorm_blocked(g, x, gamma, beta, y, mean, invstd, rmean, rvar, momentum, training);
    const int B = lanes_per_panel(g);
    const int64_t m = g.n * g.s, len = g.s * B;  // values per channel, panel length
    parallel_chunks(g.c / B, [&](int64_t lo, int64_t hi) {
        for (int64_t c0 = lo * B; c0 < hi * B; c0 += B) {  // channels c0 .. c0 + B - 1
            auto panel = [&](auto* t, int64_t i) { return t + (i * g.c + c0) * g.s; };
            float mu[kLanes], is[kLanes];
            if (training) {
                Lanes acc = {}, sq = {}, dmu;
                double sum[kLanes], dev[kLanes];
                for (int64_t i = 0; i < g.n; ++i) add_sums(panel(x, i), len, acc);
                fold(acc, B, sum);
                for (int l = 0; l < B; ++l) sum[l] /= double(m);
                spread(dmu, sum, B);
                for (int64_t i = 0; i < g.n; ++i) add_sq_devs(panel(x, i), len, dmu, sq);
                fold(sq, B, dev);
                for (int l = 0; l < B; ++l) {
                    const int64_t c = c0 + l;
                    mu[l] = float(sum[l]);
                    is[l] = float(1.0 / std::sqrt(dev[l] / double(m) + g.eps));
                    const double unbiased = dev[l] / double(m > 1 ? m - 1 : 1);
                    rmean[c] = momentum * rmean[c] + (1.0f - momentum) * mu[l];
                    rvar[c] = momentum * rvar[c] + (1.0f - momentum) * float(unbiased);
                }
            } else {
                for (int l = 0; l < B; ++l) {
                    mu[l] = rmean[c0 + l];
                    is[l] = 1.0f / std::sqrt(rvar[c0 + l] + g.eps);
                }
            }
            float a[kLanes], b[kLanes];
            for (int l = 0; l < B; ++l) {
                const int64_t c = c0 + l;
                mean[c] = mu[l];  // what normalized this batch, for backward
                invstd[c] = is[l];
                a[l] = (gamma ? gamma[c] : 1.0f) * is[l];
                b[l] = (beta ? beta[c] : 0.0f) - a[l] * mu[l];
            }
            spread(a, a, B);
            spread(b, b, B);
            for (int64_t i = 0; i < g.n; ++i) scale_shift(panel(x, i), panel(y, i), len, a, b);
        }
    }, 1);
}

void batchnorm_backward(const NormGeom& g, const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* invstd, float* dx, float* dgamma, float* dbeta, bool training, bool accumulate_dx,
                        bool accumulate_grads) {
    if (onednn_norm(g))
        return batchnorm_blocked_backward(g, x, dy, gamma, mean, invstd, dx, dgamma, dbeta, training, accumulate_dx,
                                          accumulate_grads);
    const int B = lanes_per_panel(g);
    const int64_t m = g.n * g.s, len = g.s * B;
    parallel_chunks(g.c / B, [&](int64_t lo, int64_t hi) {
        for (int64_t c0 = lo * B; c0 < hi * B; c0 += B) {
            const int64_t off = c0 * g.s;  // panel i of channels c0.. starts at i * c * s + off
            Lanes mu, a = {}, b = {};  // sum(dy), sum(dy * (x - mu))
            spread(mu, mean + c0, B);
            for (int64_t i = 0; i < g.n; ++i) add_dy_sums(x + i * g.c * g.s + off, dy + i * g.c * g.s + off, len, mu, a, b);
            double sdy[kLanes], sdyx[kLanes];
            fold(a, B, sdy);
            fold(b, B, sdyx);
            DxTerms t;
            for (int l = 0; l < B; ++l) {
                const int64_t c = c0 + l;
                const float is = invstd[c];
                sdyx[l] *= is;  // sum(dy * xhat)
                if (dgamma) dgamma[c] = float(accumulate_grads ? dgamma[c] + sdyx[l] : sdyx[l]);
                if (dbeta) dbeta[c] = float(accumulate_grads ? dbeta[c] + sdy[l] : sdy[l]);
                // training: dx = gamma*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat)); inference: gamma*invstd*dy
                t.k[l] = (gamma ? gamma[c] : 1.0f) * is;
                t.mdy[l] = training ? float(sdy[l] / double(m)) : 0.0f;
                t.mu[l] = mean[c];
                t.c[l] = training ? is * float(sdyx[l] / double(m)) : 0.0f;
            }
            if (!dx) continue;
            spread(t.k, t.k, B);
            spread(t.mdy, t.mdy, B);
            spread(t.mu, t.mu, B);
            spread(t.c, t.c, B);
            for (int64_t i = 0; i < g.n; ++i)
                bn_dx(x + i * g.c * g.s + off, dy + i * g.c * g.s + off, dx + i * g.c * g.s + off, len, t, accumulate_dx);
        }
    }, 1);
}

void groupnorm(const GroupNormGeom& g, const float* x, const float* gamma, const float* beta, float* y, float* mean,
               float* invstd) {
    const int64_t cpg = g.c / g.groups, m = cpg * g.s;
    parallel_chunks(g.n * g.groups, [&](int64_t lo, int64_t hi) {
        for (int64_t ng = lo; ng < hi; ++ng) {  // a group's values are contiguous: m of them
            const float* p = x + ng * m;
            const double mu = sum_of(p, m) / double(m), sq = sq_dev_of(p, m, mu);
            const float is = float(1.0 / std::sqrt(sq / double(m) + g.eps));
            mean[ng] = float(mu);
            invstd[ng] = is;
            const int64_t c0 = (ng % g.groups) * cpg;
            float* q = y + ng * m;
            for (int64_t c = 0; c < cpg; ++c) {
                const float a = (gamma ? gamma[c0 + c] : 1.0f) * is, b = (beta ? beta[c0 + c] : 0.0f) - a * float(mu);
                for (int64_t j = 0; j < g.s; ++j) q[c * g.s + j] = a * p[c * g.s + j] + b;
            }
        }
    }, 1);
}

void groupnorm_backward(const GroupNormGeom& g, const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* invstd, float* dx, float* dgamma, float* dbeta, bool accumulate_dx,
                        bool accumulate_grads) {
    const int64_t cpg = g.c / g.groups, m = cpg * g.s;
    if (dx)
        parallel_chunks(g.n * g.groups, [&](int64_t lo, int64_t hi) {
            for (int64_t ng = lo; ng < hi; ++ng) {
                const float* p = x + ng * m;
                const float* d = dy + ng * m;
                const float mu = mean[ng], is = invstd[ng];
                const int64_t c0 = (ng % g.groups) * cpg;
                double s1 = 0, s2 = 0;  // sum(dxhat), sum(dxhat * xhat), dxhat = dy * gamma
                for (int64_t c = 0; c < cpg; ++c) {
                    const float gm = gamma ? gamma[c0 + c] : 1.0f;
                    for (int64_t j = 0; j < g.s; ++j) {
                        const float dh = d[c * g.s + j] * gm;
                        s1 += dh;
                        s2 += double(dh) * (p[c * g.s + j] - mu) * is;
                    }
                }
                const float a = float(s1 / double(m)), b = float(s2 / double(m));
                float* q = dx + ng * m;
                for (int64_t c = 0; c < cpg; ++c) {
                    const float gm = gamma ? gamma[c0 + c] : 1.0f;
                    for (int64_t j = 0; j < g.s; ++j) {
                        const int64_t i = c * g.s + j;
                        const float v = is * (d[i] * gm - a - (p[i] - mu) * is * b);
                        q[i] = accumulate_dx ? q[i] + v : v;
                    }
                }
            }
        }, 1);
    if (dgamma || dbeta)  // per channel, summed over samples: one task per channel, no races
        parallel_chunks(g.c, [&](int64_t lo, int64_t hi) {
            for (int64_t c = lo; c < hi; ++c) {
                double sg = 0, sb = 0;
                for (int64_t n = 0; n < g.n; ++n) {
                    const int64_t ng = n * g.groups + c / cpg;
                    const float* p = x + (n * g.c + c) * g.s;
                    const float* d = dy + (n * g.c + c) * g.s;
                    for (int64_t j = 0; j < g.s; ++j) {
                        sg += double(d[j]) * (p[j] - mean[ng]) * invstd[ng];
                        sb += d[j];
                    }
                }
                if (dgamma) dgamma[c] = float(accumulate_grads ? dgamma[c] + sg : sg);
                if (dbeta) dbeta[c] = float(accumulate_grads ? dbeta[c] + sb : sb);
            }
        }, 1);
}

}  // namespace eddl::cpu
