// Batch and group normalization on NCHW, one OpenMP task per channel (group); sums in double for
// stable statistics, in independent lanes so that they vectorize. Blocked (nChw16c) batch
// normalization goes to oneDNN (blocked.cpp): on NCHW oneDNN's took twice our time.
#include <cmath>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {
namespace {

// Sums in double over 16 independent lanes: one running sum is a chain of dependent adds (4
// cycles each), several times slower than reading the memory; lanes vectorize and overlap.
constexpr int kLanes = 16;

double total(const double (&acc)[kLanes]) {
    double s = 0;
    for (double a : acc) s += a;
    return s;
}

EDDL_MULTIVERSION double sum_of(const float* p, int64_t n) {
    double acc[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int k = 0; k < kLanes; ++k) acc[k] += double(p[j + k]);
    for (; j < n; ++j) acc[0] += double(p[j]);
    return total(acc);
}

// sum of (p - mu)^2
EDDL_MULTIVERSION double sq_dev_of(const float* p, int64_t n, double mu) {
    double acc[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int k = 0; k < kLanes; ++k) {
            const double d = double(p[j + k]) - mu;
            acc[k] += d * d;
        }
    for (; j < n; ++j) acc[0] += (double(p[j]) - mu) * (double(p[j]) - mu);
    return total(acc);
}

// adds sum(dy) and sum(dy * (x - mu))
EDDL_MULTIVERSION void dy_sums(const float* x, const float* dy, int64_t n, double mu, double& sdy, double& sdyx) {
    double a[kLanes] = {}, b[kLanes] = {};
    int64_t j = 0;
    for (; j + kLanes <= n; j += kLanes)
        for (int k = 0; k < kLanes; ++k) {
            a[k] += double(dy[j + k]);
            b[k] += double(dy[j + k]) * (double(x[j + k]) - mu);
        }
    for (; j < n; ++j) {
        a[0] += double(dy[j]);
        b[0] += double(dy[j]) * (double(x[j]) - mu);
    }
    sdy += total(a);
    sdyx += total(b);
}

}  // namespace

void batchnorm(const NormGeom& g, const float* x, const float* gamma, const float* beta, float* y, float* mean,
               float* invstd, float* rmean, float* rvar, float momentum, bool training) {
    if (g.blocked) return batchnorm_blocked(g, x, gamma, beta, y, mean, invstd, rmean, rvar, momentum, training);
    const int64_t m = g.n * g.s;
    parallel_chunks(g.c, [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
            float mu, is;
            if (training) {
                double sum = 0;
                for (int64_t i = 0; i < g.n; ++i) sum += sum_of(x + (i * g.c + c) * g.s, g.s);
                const double dmu = sum / double(m);
                double sq = 0;
                for (int64_t i = 0; i < g.n; ++i) sq += sq_dev_of(x + (i * g.c + c) * g.s, g.s, dmu);
                const double var = sq / double(m);
                mu = float(dmu);
                is = float(1.0 / std::sqrt(var + g.eps));
                const double unbiased = m > 1 ? sq / double(m - 1) : var;
                rmean[c] = momentum * rmean[c] + (1.0f - momentum) * mu;
                rvar[c] = momentum * rvar[c] + (1.0f - momentum) * float(unbiased);
            } else {
                mu = rmean[c];
                is = 1.0f / std::sqrt(rvar[c] + g.eps);
            }
            mean[c] = mu;  // what normalized this batch, for backward
            invstd[c] = is;
            const float a = (gamma ? gamma[c] : 1.0f) * is, b = (beta ? beta[c] : 0.0f) - a * mu;
            for (int64_t i = 0; i < g.n; ++i) {
                const float* p = x + (i * g.c + c) * g.s;
                float* q = y + (i * g.c + c) * g.s;
                for (int64_t j = 0; j < g.s; ++j) q[j] = a * p[j] + b;
            }
        }
    }, 1);
}

void batchnorm_backward(const NormGeom& g, const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* invstd, float* dx, float* dgamma, float* dbeta, bool training, bool accumulate_dx,
                        bool accumulate_grads) {
    if (g.blocked)
        return batchnorm_blocked_backward(g, x, dy, gamma, mean, invstd, dx, dgamma, dbeta, training, accumulate_dx,
                                          accumulate_grads);
    const int64_t m = g.n * g.s;
    parallel_chunks(g.c, [&](int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
            const float mu = mean[c], is = invstd[c];
            double sdy = 0, sdyx = 0;  // sum(dy), sum(dy * xhat)
            for (int64_t i = 0; i < g.n; ++i)
                dy_sums(x + (i * g.c + c) * g.s, dy + (i * g.c + c) * g.s, g.s, mu, sdy, sdyx);
            sdyx *= is;
            if (dgamma) dgamma[c] = float(accumulate_grads ? dgamma[c] + sdyx : sdyx);
            if (dbeta) dbeta[c] = float(accumulate_grads ? dbeta[c] + sdy : sdy);
            if (!dx) continue;
            const float gm = gamma ? gamma[c] : 1.0f;
            // training: dx = gamma*invstd/m * (m*dy - sum(dy) - xhat*sum(dy*xhat)); inference: gamma*invstd*dy
            const float k = gm * is, mdy = training ? float(sdy / double(m)) : 0.0f,
                        mdyx = training ? float(sdyx / double(m)) : 0.0f;
            for (int64_t i = 0; i < g.n; ++i) {
                const float* p = x + (i * g.c + c) * g.s;
                const float* d = dy + (i * g.c + c) * g.s;
                float* q = dx + (i * g.c + c) * g.s;
                for (int64_t j = 0; j < g.s; ++j) {
                    const float v = k * (d[j] - mdy - (p[j] - mu) * is * mdyx);
                    q[j] = accumulate_dx ? q[j] + v : v;
                }
            }
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
