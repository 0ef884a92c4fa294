// Import-only layers for ONNX operators that no facade layer covers: reductions over any sample
// axes, Gather with constant indices (and Slice through it), LogSoftmax and Hardmax on any axis.
// Plain CPU loops; checked against references and finite differences in tests/eddl/test_onnx.cpp.
#include <algorithm>
#include <cmath>
#include <limits>

#include "eddl/error.h"
#include "layers/layers.h"
#include "onnx/onnx_common.h"
#include "tensor/dispatch.h"

namespace eddl::onnxio {
namespace {

int64_t prod(const Shape& s, size_t from, size_t to) {
    int64_t p = 1;
    for (size_t i = from; i < to; ++i) p *= s[i];
    return p;
}

}  // namespace

// ---- LReduce ----

LReduce::LReduce(layer parent, ReduceFn f, const std::string& o, const std::vector<int>& ax, bool keep,
                 const std::string& n)
    : fn(f), op(o), axes(ax), keepdims(keep) {
    name = n;
    EDDL_CHECK(parent, "ONNX " << op << " '" << name << "': parent layer is null");
    parents = {parent};
    const Shape& in = parent->out_shape;
    const int R = int(in.size());
    std::vector<bool> red(size_t(R), false);
    for (size_t i = 0; i < axes.size(); ++i) {
        EDDL_CHECK(axes[i] >= 0 && axes[i] < R && (i == 0 || axes[i] > axes[i - 1]),
                   "ONNX " << op << " '" << name << "': axes must be sorted, distinct sample axes of " << shape_str(in));
        red[size_t(axes[i])] = true;
    }
    Shape kept;  // the output's dims in input order, reduced ones as 1
    for (int i = 0; i < R; ++i) {
        kept.push_back(red[size_t(i)] ? 1 : in[size_t(i)]);
        if (red[size_t(i)]) count_ *= in[size_t(i)];
        if (keepdims || !red[size_t(i)]) out_shape.push_back(kept.back());
    }
    if (out_shape.empty()) out_shape = {1};
    const int64_t S = prod(in, 0, in.size());
    to_out_.resize(size_t(S));
    std::vector<int64_t> idx(size_t(R), 0);
    for (int64_t e = 0; e < S; ++e) {
        int64_t o_ = 0;
        for (int i = 0; i < R; ++i) o_ = o_ * kept[size_t(i)] + (red[size_t(i)] ? 0 : idx[size_t(i)]);
        to_out_[size_t(e)] = o_;
        for (int i = R - 1; i >= 0; --i) {
            if (++idx[size_t(i)] < in[size_t(i)]) break;
            idx[size_t(i)] = 0;
        }
    }
}

void LReduce::forward() {
    const Tensor& x = *parents[0]->output;
    const int64_t B = x.shape[0], S = int64_t(to_out_.size()), O = output->size / B;
    std::vector<double> acc(static_cast<size_t>(O));
    if (fn == ReduceFn::Max || fn == ReduceFn::Min || fn == ReduceFn::Prod) arg_.assign(size_t(B * O), 0);
    if (fn == ReduceFn::Prod) nz_prod_.assign(size_t(B * O), 1.0f);
    for (int64_t b = 0; b < B; ++b) {
        const float* xp = x.ptr + b * S;
        float* y = output->ptr + b * O;
        switch (fn) {
            case ReduceFn::Max:
            case ReduceFn::Min: {
                const bool mx = fn == ReduceFn::Max;
                std::vector<bool> seen(size_t(O), false);
                for (int64_t e = 0; e < S; ++e) {
                    const int64_t o = to_out_[size_t(e)];
                    const float v = xp[e];
                    if (!seen[size_t(o)] || (mx ? v > y[o] : v < y[o]) || (std::isnan(v) && !std::isnan(y[o]))) {
                        y[o] = v;
                        arg_[size_t(b * O + o)] = e;
                        seen[size_t(o)] = true;
                    }
                }
                break;
            }
            case ReduceFn::Prod: {
                std::fill(acc.begin(), acc.end(), 1.0);
                for (int64_t e = 0; e < S; ++e) {
                    const int64_t o = to_out_[size_t(e)];
                    acc[size_t(o)] *= xp[e];
                    if (xp[e] == 0) ++arg_[size_t(b * O + o)];
                    else nz_prod_[size_t(b * O + o)] *= xp[e];
                }
                for (int64_t o = 0; o < O; ++o) y[o] = float(acc[size_t(o)]);
                break;
            }
            case ReduceFn::LogSumExp: {
                std::vector<double> m(size_t(O), -std::numeric_limits<double>::infinity());
                for (int64_t e = 0; e < S; ++e) m[size_t(to_out_[size_t(e)])] = std::max<double>(m[size_t(to_out_[size_t(e)])], xp[e]);
                std::fill(acc.begin(), acc.end(), 0.0);
                for (int64_t e = 0; e < S; ++e) {
                    const int64_t o = to_out_[size_t(e)];
                    if (std::isfinite(m[size_t(o)])) acc[size_t(o)] += std::exp(double(xp[e]) - m[size_t(o)]);
                }
                for (int64_t o = 0; o < O; ++o)
                    y[o] = std::isfinite(m[size_t(o)]) ? float(m[size_t(o)] + std::log(acc[size_t(o)])) : float(m[size_t(o)]);
                break;
            }
            default: {  // sums of f(x)
                std::fill(acc.begin(), acc.end(), 0.0);
                for (int64_t e = 0; e < S; ++e) {
                    const double v = xp[e];
                    acc[size_t(to_out_[size_t(e)])] += fn == ReduceFn::L1 ? std::fabs(v)
                                                       : (fn == ReduceFn::L2 || fn == ReduceFn::SumSquare) ? v * v
                                                                                                             : v;
                }
                for (int64_t o = 0; o < O; ++o) {
                    const double a = acc[size_t(o)];
                    y[o] = float(fn == ReduceFn::Mean     ? a / double(count_)
                                 : fn == ReduceFn::L2     ? std::sqrt(a)
                                 : fn == ReduceFn::LogSum ? std::log(a)
                                                          : a);
                }
            }
        }
    }
}

void LReduce::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const Tensor& x = *parents[0]->output;
    const int64_t B = x.shape[0], S = int64_t(to_out_.size()), O = output->size / B;
    for (int64_t b = 0; b < B; ++b) {
        const float* xp = x.ptr + b * S;
        const float* y = output->ptr + b * O;
        const float* dy = delta->ptr + b * O;
        float* dx = parents[0]->delta->ptr + b * S;
        for (int64_t e = 0; e < S; ++e) {
            const int64_t o = to_out_[size_t(e)];
            const float v = xp[e];
            float g = 1;
            switch (fn) {
                case ReduceFn::Sum: break;
                case ReduceFn::Mean: g = 1.0f / float(count_); break;
                case ReduceFn::Max:
                case ReduceFn::Min: g = arg_[size_t(b * O + o)] == e ? 1.0f : 0.0f; break;
                case ReduceFn::Prod: {  // the product of the others, also when some are zero
                    const int64_t zeros = arg_[size_t(b * O + o)];
                    const float nz = nz_prod_[size_t(b * O + o)];
                    g = zeros == 0 ? nz / v : (zeros == 1 && v == 0) ? nz : 0.0f;
                    break;
                }
                case ReduceFn::L1: g = float((v > 0) - (v < 0)); break;
                case ReduceFn::L2: g = y[o] > 0 ? v / y[o] : 0.0f; break;
                case ReduceFn::LogSum: g = std::exp(-y[o]); break;
                case ReduceFn::LogSumExp: g = std::exp(v - y[o]); break;
                case ReduceFn::SumSquare: g = 2 * v; break;
            }
            dx[e] = (acc ? dx[e] : 0.0f) + dy[o] * g;
        }
    }
}

// ---- LGather ----

LGather::LGather(layer parent, int ax, const std::vector<int64_t>& idims, const std::vector<int64_t>& idx,
                 const std::string& n)
    : axis(ax), index_dims(idims), indices(idx) {
    name = n;
    EDDL_CHECK(parent, "ONNX Gather '" << name << "': parent layer is null");
    parents = {parent};
    const Shape& in = parent->out_shape;
    EDDL_CHECK(axis >= 0 && axis < int(in.size()), "ONNX Gather '" << name << "': axis " << axis << " of " << shape_str(in));
    int64_t k = 1;
    for (int64_t d : index_dims) k *= d;
    EDDL_CHECK(k == int64_t(indices.size()) && k > 0, "ONNX Gather '" << name << "': " << indices.size()
                                                                       << " indices for index shape " << index_dims.size());
    for (int64_t i : indices)
        EDDL_CHECK(i >= 0 && i < in[size_t(axis)], "ONNX Gather '" << name << "': index " << i << " out of range for axis "
                                                                   << axis << " of " << shape_str(in));
    out_shape.assign(in.begin(), in.begin() + axis);
    for (int64_t d : index_dims) out_shape.push_back(int(d));
    out_shape.insert(out_shape.end(), in.begin() + axis + 1, in.end());
    if (out_shape.empty()) out_shape = {1};
}

void LGather::forward() {
    const Tensor& x = *parents[0]->output;
    const Shape& in = parents[0]->out_shape;
    const int64_t outer = x.shape[0] * prod(in, 0, size_t(axis)), len = in[size_t(axis)];
    const int64_t inner = prod(in, size_t(axis) + 1, in.size()), K = int64_t(indices.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < K; ++k)
            std::copy_n(x.ptr + (o * len + indices[size_t(k)]) * inner, inner, output->ptr + (o * K + k) * inner);
}

void LGather::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    Tensor& dx = *parents[0]->delta;
    if (!acc) dx.fill_(0.0f);
    const Shape& in = parents[0]->out_shape;
    const int64_t outer = dx.shape[0] * prod(in, 0, size_t(axis)), len = in[size_t(axis)];
    const int64_t inner = prod(in, size_t(axis) + 1, in.size()), K = int64_t(indices.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t k = 0; k < K; ++k) {
            float* d = dx.ptr + (o * len + indices[size_t(k)]) * inner;
            const float* g = delta->ptr + (o * K + k) * inner;
            for (int64_t q = 0; q < inner; ++q) d[q] += g[q];
        }
}

// ---- LNormStat ----

LNormStat::LNormStat(layer parent, int ax, float e, bool inv, const std::string& n) : axis(ax), eps(e), invstd(inv) {
    name = n;
    EDDL_CHECK(parent, "ONNX LayerNormalization statistics '" << name << "': parent layer is null");
    parents = {parent};
    const Shape& in = parent->out_shape;
    EDDL_CHECK(axis >= 0 && axis < int(in.size()), "ONNX LayerNormalization statistics '" << name << "': axis " << axis
                                                                                           << " of " << shape_str(in));
    out_shape = in;
    for (size_t i = size_t(axis); i < in.size(); ++i) out_shape[i] = 1;
}

void LNormStat::forward() {
    const Tensor& x = *parents[0]->output;
    const Shape& in = parents[0]->out_shape;
    const int64_t m = prod(in, size_t(axis), in.size()), rows = x.size / m;
    mean_.resize(size_t(rows));
    for (int64_t r = 0; r < rows; ++r) {
        const float* p = x.ptr + r * m;
        double s = 0, q = 0;
        for (int64_t i = 0; i < m; ++i) s += p[i];
        const double mu = s / double(m);
        for (int64_t i = 0; i < m; ++i) q += (p[i] - mu) * (p[i] - mu);
        mean_[size_t(r)] = float(mu);
        output->ptr[r] = invstd ? float(1.0 / std::sqrt(q / double(m) + double(eps))) : float(mu);
    }
}

void LNormStat::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const Tensor& x = *parents[0]->output;
    const Shape& in = parents[0]->out_shape;
    const int64_t m = prod(in, size_t(axis), in.size()), rows = x.size / m;
    for (int64_t r = 0; r < rows; ++r) {
        const float* p = x.ptr + r * m;
        float* dx = parents[0]->delta->ptr + r * m;
        const float dy = delta->ptr[r], y = output->ptr[r], mu = mean_[size_t(r)];
        for (int64_t i = 0; i < m; ++i) {
            // d mean/dx = 1/m; d invstd/dx = -invstd^3 (x - mean) / m
            const float g = invstd ? -dy * y * y * y * (p[i] - mu) / float(m) : dy / float(m);
            dx[i] = acc ? dx[i] + g : g;
        }
    }
}

// ---- LMatMul ----

LMatMul::LMatMul(layer a, layer b, const std::string& n) {
    name = n;
    EDDL_CHECK(a && b, "ONNX MatMul '" << name << "': parent layer is null");
    const Shape &sa = a->out_shape, &sb = b->out_shape;
    EDDL_CHECK(sa.size() >= 2 && sa.size() == sb.size() && std::equal(sa.begin(), sa.end() - 2, sb.begin()) &&
                   sa.back() == sb[sb.size() - 2],
               "ONNX MatMul '" << name << "': shapes " << shape_str(sa) << " and " << shape_str(sb)
                               << " (batch excluded) do not multiply: [..., M, K] x [..., K, N] with equal leading dimensions");
    parents = {a, b};
    out_shape = sa;
    out_shape.back() = sb.back();
}

void LMatMul::forward() {
    const Tensor &a = *parents[0]->output, &b = *parents[1]->output;
    const Shape& sa = parents[0]->out_shape;
    const int M = sa[sa.size() - 2], K = sa.back(), N = out_shape.back();
    const int64_t mats = a.size / (int64_t(M) * K);
    const auto& k = kernels(a.device);
    for (int64_t i = 0; i < mats; ++i)
        k.gemm(false, false, M, N, K, 1.0f, a.ptr + i * M * K, K, b.ptr + i * K * N, N, 0.0f, output->ptr + i * M * N, N);
}

void LMatMul::backward() {
    const Tensor &a = *parents[0]->output, &b = *parents[1]->output;
    const Shape& sa = parents[0]->out_shape;
    const int M = sa[sa.size() - 2], K = sa.back(), N = out_shape.back();
    const int64_t mats = a.size / (int64_t(M) * K);
    const auto& k = kernels(a.device);
    if (parents[0]->needs_delta) {  // dA = dY B^T
        const float beta = take_parent_delta(0) ? 1.0f : 0.0f;
        for (int64_t i = 0; i < mats; ++i)
            k.gemm(false, true, M, K, N, 1.0f, delta->ptr + i * M * N, N, b.ptr + i * K * N, N, beta,
                   parents[0]->delta->ptr + i * M * K, K);
    }
    if (parents[1]->needs_delta) {  // dB = A^T dY
        const float beta = take_parent_delta(1) ? 1.0f : 0.0f;
        for (int64_t i = 0; i < mats; ++i)
            k.gemm(true, false, K, N, M, 1.0f, a.ptr + i * M * K, K, delta->ptr + i * M * N, N, beta,
                   parents[1]->delta->ptr + i * K * N, N);
    }
}

// ---- LBroadcast ----

LBroadcast::LBroadcast(layer parent, const Shape& target, bool t, const std::string& n) : tile(t) {
    name = n;
    EDDL_CHECK(parent, "ONNX " << (tile ? "Tile" : "Expand") << " '" << name << "': parent layer is null");
    parents = {parent};
    const Shape& in = parent->out_shape;
    EDDL_CHECK(target.size() == in.size(), "ONNX " << (tile ? "Tile" : "Expand") << " '" << name << "': "
                                                   << shape_str(in) << " to " << shape_str(target) << " (ranks differ)");
    for (size_t i = 0; i < in.size(); ++i)
        EDDL_CHECK(tile ? target[i] % in[i] == 0 : (in[i] == target[i] || in[i] == 1),
                   "ONNX " << (tile ? "Tile" : "Expand") << " '" << name << "': " << shape_str(in) << " does not "
                           << (tile ? "tile" : "broadcast") << " to " << shape_str(target));
    out_shape = target;
    const int R = int(in.size());
    const int64_t n_out = prod(target, 0, target.size());
    from_.resize(size_t(n_out));
    std::vector<int64_t> idx(size_t(R), 0);
    for (int64_t e = 0; e < n_out; ++e) {
        int64_t src = 0;
        for (int i = 0; i < R; ++i) src = src * in[size_t(i)] + (tile ? idx[size_t(i)] % in[size_t(i)] : in[size_t(i)] == 1 ? 0 : idx[size_t(i)]);
        from_[size_t(e)] = src;
        for (int i = R - 1; i >= 0; --i) {
            if (++idx[size_t(i)] < target[size_t(i)]) break;
            idx[size_t(i)] = 0;
        }
    }
}

void LBroadcast::forward() {
    const Tensor& x = *parents[0]->output;
    const int64_t B = x.shape[0], S = x.size / B, O = int64_t(from_.size());
    for (int64_t b = 0; b < B; ++b)
        for (int64_t e = 0; e < O; ++e) output->ptr[b * O + e] = x.ptr[b * S + from_[size_t(e)]];
}

void LBroadcast::backward() {
    if (!parents[0]->needs_delta) return;
    Tensor& dx = *parents[0]->delta;
    if (!take_parent_delta(0)) dx.fill_(0.0f);
    const int64_t B = dx.shape[0], S = dx.size / B, O = int64_t(from_.size());
    for (int64_t b = 0; b < B; ++b)
        for (int64_t e = 0; e < O; ++e) dx.ptr[b * S + from_[size_t(e)]] += delta->ptr[b * O + e];
}

// ---- LLRN ----

LLRN::LLRN(layer parent, float a, float b, float bi, int sz, const std::string& n) : alpha(a), beta(b), bias(bi), size(sz) {
    name = n;
    EDDL_CHECK(parent && parent->out_shape.size() >= 2, "ONNX LRN '" << name << "': needs [C, spatial...] input");
    EDDL_CHECK(size >= 1, "ONNX LRN '" << name << "': size " << size << " must be >= 1");
    parents = {parent};
    out_shape = parent->out_shape;
}

void LLRN::forward() {
    const Tensor& x = *parents[0]->output;
    const int64_t C = out_shape[0], S = prod(out_shape, 1, out_shape.size()), B = x.size / (C * S);
    const int lo = (size - 1) / 2, hi = size - 1 - lo;  // channels c - lo .. c + hi
    scale_.resize(size_t(x.size));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t s = 0; s < S; ++s) {
                double sum = 0;
                for (int64_t j = std::max<int64_t>(0, c - lo); j <= std::min<int64_t>(C - 1, c + hi); ++j) {
                    const double v = x.ptr[(b * C + j) * S + s];
                    sum += v * v;
                }
                const int64_t i = (b * C + c) * S + s;
                scale_[size_t(i)] = float(bias + alpha / float(size) * sum);
                output->ptr[i] = float(x.ptr[i] * std::pow(double(scale_[size_t(i)]), -double(beta)));
            }
}

void LLRN::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const Tensor& x = *parents[0]->output;
    float* dx = parents[0]->delta->ptr;
    const int64_t C = out_shape[0], S = prod(out_shape, 1, out_shape.size()), B = x.size / (C * S);
    const int lo = (size - 1) / 2, hi = size - 1 - lo;
    // y_j = x_j s_j^-beta, s_j = bias + alpha/size sum_{i in win(j)} x_i^2:
    // dx_i = dy_i s_i^-beta - 2 alpha beta / size x_i sum_{j: i in win(j)} dy_j x_j s_j^(-beta-1)
    for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t s = 0; s < S; ++s) {
                const int64_t i = (b * C + c) * S + s;
                double t = 0;
                for (int64_t j = std::max<int64_t>(0, c - hi); j <= std::min<int64_t>(C - 1, c + lo); ++j) {
                    const int64_t q = (b * C + j) * S + s;
                    t += double(delta->ptr[q]) * x.ptr[q] * std::pow(double(scale_[size_t(q)]), -double(beta) - 1);
                }
                const double g = delta->ptr[i] * std::pow(double(scale_[size_t(i)]), -double(beta)) -
                                 2.0 * alpha * beta / size * x.ptr[i] * t;
                dx[i] = acc ? dx[i] + float(g) : float(g);
            }
}

// ---- LTopK ----

LTopK::LTopK(layer parent, int ax, int kk, bool lg, bool ix, const std::string& n)
    : axis(ax), k(kk), largest(lg), indices(ix) {
    name = n;
    EDDL_CHECK(parent, "ONNX TopK '" << name << "': parent layer is null");
    parents = {parent};
    out_shape = parent->out_shape;
    EDDL_CHECK(axis >= 0 && axis < int(out_shape.size()) && k >= 1 && k <= out_shape[size_t(axis)],
               "ONNX TopK '" << name << "': k " << k << " along axis " << axis << " of " << shape_str(out_shape));
    out_shape[size_t(axis)] = k;
}

void LTopK::forward() {
    const Tensor& x = *parents[0]->output;
    const Shape& in = parents[0]->out_shape;
    const int64_t outer = x.shape[0] * prod(in, 0, size_t(axis)), len = in[size_t(axis)];
    const int64_t inner = prod(in, size_t(axis) + 1, in.size());
    picked_.resize(size_t(output->size));
    std::vector<int64_t> order(static_cast<size_t>(len));
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t q = 0; q < inner; ++q) {
            const float* xp = x.ptr + o * len * inner + q;
            for (int64_t j = 0; j < len; ++j) order[size_t(j)] = j;
            std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
                return largest ? xp[a * inner] > xp[b * inner] : xp[a * inner] < xp[b * inner];
            });
            for (int64_t j = 0; j < k; ++j) {
                const int64_t oi = (o * k + j) * inner + q, src = order[size_t(j)];
                picked_[size_t(oi)] = (o * len + src) * inner + q;
                output->ptr[oi] = indices ? float(src) : xp[src * inner];
            }
        }
}

void LTopK::backward() {
    if (!parents[0]->needs_delta) return;
    Tensor& dx = *parents[0]->delta;
    if (!take_parent_delta(0)) dx.fill_(0.0f);
    if (indices) return;
    for (int64_t i = 0; i < output->size; ++i) dx.ptr[picked_[size_t(i)]] += delta->ptr[i];
}

// ---- LPoolIndices ----

LPoolIndices::LPoolIndices(layer parent, std::shared_ptr<LPool2D> p, const std::string& n, bool ps, bool cm)
    : pool(std::move(p)), per_sample(ps), column_major(cm) {
    name = n;
    EDDL_CHECK(parent && pool && pool->kind == PoolKind::Max && !pool->global && pool->parents[0] == parent,
               "ONNX MaxPool indices '" << name << "': needs the max pooling layer of its input");
    parents = {parent};
    out_shape = pool->out_shape;
}

void LPoolIndices::forward() {
    const Tensor& x = *parents[0]->output;
    const PoolGeom g = pool->geom(x.shape[0]);
    const int64_t in_plane = int64_t(g.id) * g.ih * g.iw, out_plane = int64_t(g.od) * g.oh * g.ow;
    for (int64_t p = 0; p < int64_t(g.n) * g.c; ++p) {
        const float* s = x.ptr + p * in_plane;
        float* y = output->ptr + p * out_plane;
        int64_t o = 0;
        for (int oz = 0; oz < g.od; ++oz)
            for (int oy = 0; oy < g.oh; ++oy)
                for (int ox = 0; ox < g.ow; ++ox, ++o) {
                    int64_t at = -1;
                    float best = 0;
                    for (int kz = 0; kz < g.kd; ++kz)
                        for (int ky = 0; ky < g.kh; ++ky)
                            for (int kx = 0; kx < g.kw; ++kx) {
                                const int z = oz * g.sd - g.pf + kz * g.dd, yy = oy * g.sh - g.pt + ky * g.dh,
                                          xx = ox * g.sw - g.pl + kx * g.dw;
                                if (z < 0 || z >= g.id || yy < 0 || yy >= g.ih || xx < 0 || xx >= g.iw) continue;
                                const int64_t i = (int64_t(z) * g.ih + yy) * g.iw + xx;
                                if (at < 0 || s[i] > best) {  // the first maximum, as the pooling
                                    best = s[i];
                                    at = column_major ? (int64_t(xx) * g.ih + yy) * g.id + z : i;
                                }
                            }
                    y[o] = float((per_sample ? p % g.c : p) * in_plane + std::max<int64_t>(at, 0));
                }
    }
}

void LPoolIndices::backward() {  // indices: piecewise constant
    if (!parents[0]->needs_delta) return;
    if (!take_parent_delta(0)) parents[0]->delta->fill_(0.0f);
}

// ---- LAxisOp ----

LAxisOp::LAxisOp(layer parent, const std::string& o, int ax, const std::string& n, bool keep, bool last)
    : op(o), axis(ax), keepdims(keep), select_last(last) {
    name = n;
    EDDL_CHECK(parent, "ONNX " << op << " '" << name << "': parent layer is null");
    EDDL_CHECK(op == "LogSoftmax" || op == "Hardmax" || op == "ArgMax" || op == "ArgMin",
               "ONNX axis operator " << op << " is not known");
    parents = {parent};
    out_shape = parent->out_shape;
    EDDL_CHECK(axis >= 0 && axis < int(out_shape.size()),
               "ONNX " << op << " '" << name << "': axis " << axis << " of " << shape_str(out_shape));
    if (op == "ArgMax" || op == "ArgMin") {
        if (keepdims) out_shape[size_t(axis)] = 1;
        else out_shape.erase(out_shape.begin() + axis);
        if (out_shape.empty()) out_shape = {1};
    }
}

void LAxisOp::forward() {
    const Tensor& x = *parents[0]->output;
    const Shape& in = parents[0]->out_shape;
    const int64_t outer = x.shape[0] * prod(in, 0, size_t(axis)), len = in[size_t(axis)];
    const int64_t inner = prod(in, size_t(axis) + 1, in.size());
    const bool arg = op == "ArgMax" || op == "ArgMin";
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t q = 0; q < inner; ++q) {
            const float* xp = x.ptr + o * len * inner + q;
            if (arg) {
                const bool mx = op == "ArgMax";
                int64_t best = 0;
                for (int64_t j = 1; j < len; ++j) {
                    const float v = xp[j * inner], b = xp[best * inner];
                    if ((mx ? v > b : v < b) || (select_last && v == b)) best = j;
                }
                output->ptr[o * inner + q] = float(best);
                continue;
            }
            float* y = output->ptr + o * len * inner + q;
            int64_t best = 0;
            for (int64_t j = 1; j < len; ++j)
                if (xp[j * inner] > xp[best * inner]) best = j;  // the first maximum, as ONNX
            if (op == "Hardmax") {
                for (int64_t j = 0; j < len; ++j) y[j * inner] = j == best ? 1.0f : 0.0f;
                continue;
            }
            const double m = xp[best * inner];
            double s = 0;
            for (int64_t j = 0; j < len; ++j) s += std::exp(double(xp[j * inner]) - m);
            const double ls = m + std::log(s);
            for (int64_t j = 0; j < len; ++j) y[j * inner] = float(double(xp[j * inner]) - ls);
        }
}

void LAxisOp::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    Tensor& dx = *parents[0]->delta;
    if (op != "LogSoftmax") {  // piecewise constant: no gradient
        if (!acc) dx.fill_(0.0f);
        return;
    }
    const int64_t outer = dx.shape[0] * prod(out_shape, 0, size_t(axis)), len = out_shape[size_t(axis)];
    const int64_t inner = prod(out_shape, size_t(axis) + 1, out_shape.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t q = 0; q < inner; ++q) {
            const int64_t base = o * len * inner + q;
            double s = 0;
            for (int64_t j = 0; j < len; ++j) s += delta->ptr[base + j * inner];
            for (int64_t j = 0; j < len; ++j) {
                const int64_t i = base + j * inner;
                const float g = float(delta->ptr[i] - std::exp(double(output->ptr[i])) * s);
                dx.ptr[i] = acc ? dx.ptr[i] + g : g;
            }
        }
}

}  // namespace eddl::onnxio

namespace eddl::onnxio {

// ---- LResize ----

namespace {

// ONNX's cubic convolution weights for the 4 neighbours of a position at fraction t past the 2nd
void cubic_weights(float a, float t, float* w) {
    auto far = [a](float x) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; };  // 1 <= |x| < 2
    auto near = [a](float x) { return ((a + 2) * x - (a + 3)) * x * x + 1; };       // |x| < 1
    w[0] = far(t + 1);
    w[1] = near(t);
    w[2] = near(1 - t);
    w[3] = far(2 - t);
}

}  // namespace

LResize::LResize(layer parent, const Shape& out, const Params& prm, const std::string& n) : p(prm) {
    name = n;
    const std::string who = "ONNX Resize '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    parents = {parent};
    const Shape& in = parent->out_shape;
    EDDL_CHECK(out.size() == in.size() && p.scales.size() == in.size(), who << ": " << shape_str(in) << " to " << shape_str(out));
    EDDL_CHECK(p.mode == "nearest" || p.mode == "linear" || p.mode == "cubic", who << ": mode '" << p.mode << "'");
    out_shape = out;
    const bool crop = p.ctm == "tf_crop_and_resize";
    for (size_t ax = 0; ax < in.size(); ++ax) {
        AxisTaps t;
        t.axis = int(ax);
        t.in = in[ax];
        t.out = out[ax];
        EDDL_CHECK(t.out >= 1, who << ": output dimension " << t.out);
        t.taps = p.mode == "nearest" ? 1 : p.mode == "linear" ? 2 : 4;
        t.idx.resize(size_t(t.out * t.taps));
        t.w.resize(t.idx.size());
        t.outside.assign(size_t(t.out), 0);
        const double s = p.scales[ax], S = t.in, O = t.out;
        bool identity = t.in == t.out;
        for (int o = 0; o < t.out; ++o) {
            double x;  // the output position in input coordinates
            if (p.ctm == "half_pixel") x = (o + 0.5) / s - 0.5;
            else if (p.ctm == "pytorch_half_pixel") x = O > 1 ? (o + 0.5) / s - 0.5 : 0.0;
            // ONNX takes the resized length as input * scale, not floored (2.4 for 4 x 0.6)
            else if (p.ctm == "align_corners") x = S * s <= 1 ? 0.0 : o * (S - 1) / (S * s - 1);
            else if (p.ctm == "asymmetric") x = o / s;
            else if (p.ctm == "tf_half_pixel_for_nn") x = (o + 0.5) / s;
            else if (crop) {
                const double a = ax < p.roi_start.size() ? p.roi_start[ax] : 0.0, b = ax < p.roi_end.size() ? p.roi_end[ax] : 1.0;
                x = O > 1 ? a * (S - 1) + o * (b - a) * (S - 1) / (O - 1) : 0.5 * (a + b) * (S - 1);
                if (x < 0 || x > S - 1) {
                    t.outside[size_t(o)] = 1;
                    extrapolates_ = true;
                }
            } else {
                EDDL_FAIL(who << ": coordinate_transformation_mode '" << p.ctm << "'");
            }
            int64_t* ix = t.idx.data() + size_t(o) * size_t(t.taps);
            float* w = t.w.data() + size_t(o) * size_t(t.taps);
            auto clampi = [&](int64_t i) { return std::clamp<int64_t>(i, 0, t.in - 1); };
            if (p.mode == "nearest") {
                int64_t i;
                const double f = std::floor(x);
                if (p.nearest_mode == "floor") i = int64_t(f);
                else if (p.nearest_mode == "ceil") i = int64_t(std::ceil(x));
                else if (p.nearest_mode == "round_prefer_ceil") i = x - f == 0.5 ? int64_t(f) + 1 : int64_t(std::round(x));
                else if (p.nearest_mode == "round_prefer_floor") i = x - f == 0.5 ? int64_t(f) : int64_t(std::round(x));
                else EDDL_FAIL(who << ": nearest_mode '" << p.nearest_mode << "'");
                ix[0] = clampi(i);
                w[0] = 1;
            } else if (p.mode == "linear") {
                const double xc = std::clamp(x, 0.0, S - 1), f = std::floor(xc);
                const float t1 = float(xc - f);
                ix[0] = clampi(int64_t(f));
                ix[1] = clampi(int64_t(f) + 1);
                w[0] = 1 - t1;
                w[1] = t1;
            } else {  // cubic: neighbours f-1 .. f+2, replicated at the edges or (exclude_outside) dropped
                const double f = std::floor(x);
                cubic_weights(p.cubic_a, float(x - f), w);
                float sum = 0;
                for (int k = 0; k < 4; ++k) {
                    const int64_t i = int64_t(f) - 1 + k;
                    if (p.exclude_outside && (i < 0 || i >= t.in)) w[k] = 0;
                    ix[k] = clampi(i);
                    sum += w[k];
                }
                if (p.exclude_outside && sum != 0)
                    for (int k = 0; k < 4; ++k) w[k] /= sum;
            }
            for (int k = 0; k < t.taps; ++k) identity = identity && (w[k] == 0 || (ix[k] == o && w[k] == 1));
            identity = identity && !t.outside[size_t(o)];
        }
        if (!identity) axes_.push_back(std::move(t));
    }
}

void LResize::forward() {
    const Tensor& x = *parents[0]->output;
    Shape cur = parents[0]->out_shape;
    const int64_t B = x.shape[0];
    std::vector<float> a(x.ptr, x.ptr + x.size), b;
    for (const AxisTaps& t : axes_) {
        int64_t outer = B, inner = 1;
        for (int i = 0; i < t.axis; ++i) outer *= cur[size_t(i)];
        for (size_t i = size_t(t.axis) + 1; i < cur.size(); ++i) inner *= cur[i];
        b.assign(size_t(outer * t.out * inner), 0.0f);
        for (int64_t o = 0; o < outer; ++o)
            for (int j = 0; j < t.out; ++j) {
                float* dst = b.data() + (o * t.out + j) * inner;
                for (int k = 0; k < t.taps; ++k) {
                    const float w = t.w[size_t(j * t.taps + k)];
                    if (w == 0) continue;
                    const float* src = a.data() + (o * t.in + t.idx[size_t(j * t.taps + k)]) * inner;
                    for (int64_t q = 0; q < inner; ++q) dst[q] += w * src[q];
                }
            }
        cur[size_t(t.axis)] = t.out;
        a.swap(b);
    }
    std::copy(a.begin(), a.end(), output->ptr);
    if (!extrapolates_) return;
    // tf_crop_and_resize: elements mapped outside the input along any axis take the constant
    const Shape& os = out_shape;
    const int64_t per = output->size / B;
    std::vector<int64_t> idx(os.size(), 0);
    for (int64_t e = 0; e < per; ++e) {
        bool out = false;
        for (const AxisTaps& t : axes_) out = out || t.outside[size_t(idx[size_t(t.axis)])];
        if (out)
            for (int64_t bb = 0; bb < B; ++bb) output->ptr[bb * per + e] = p.extrapolation;
        for (int i = int(os.size()) - 1; i >= 0; --i) {
            if (++idx[size_t(i)] < os[size_t(i)]) break;
            idx[size_t(i)] = 0;
        }
    }
}

void LResize::backward() {
    if (!parents[0]->needs_delta) return;
    const bool acc = take_parent_delta(0);
    const int64_t B = delta->shape[0];
    std::vector<float> g(delta->ptr, delta->ptr + delta->size), h;
    if (extrapolates_) {  // constants there: no gradient
        const Shape& os = out_shape;
        const int64_t per = delta->size / B;
        std::vector<int64_t> idx(os.size(), 0);
        for (int64_t e = 0; e < per; ++e) {
            bool out = false;
            for (const AxisTaps& t : axes_) out = out || t.outside[size_t(idx[size_t(t.axis)])];
            if (out)
                for (int64_t bb = 0; bb < B; ++bb) g[size_t(bb * per + e)] = 0;
            for (int i = int(os.size()) - 1; i >= 0; --i) {
                if (++idx[size_t(i)] < os[size_t(i)]) break;
                idx[size_t(i)] = 0;
            }
        }
    }
    // the shapes before each pass, then the passes' adjoints in reverse
    std::vector<Shape> before;
    Shape cur = parents[0]->out_shape;
    for (const AxisTaps& t : axes_) {
        before.push_back(cur);
        cur[size_t(t.axis)] = t.out;
    }
    for (size_t a = axes_.size(); a-- > 0;) {
        const AxisTaps& t = axes_[a];
        const Shape& sh = before[a];
        int64_t outer = B, inner = 1;
        for (int i = 0; i < t.axis; ++i) outer *= sh[size_t(i)];
        for (size_t i = size_t(t.axis) + 1; i < sh.size(); ++i) inner *= sh[i];
        h.assign(size_t(outer * t.in * inner), 0.0f);
        for (int64_t o = 0; o < outer; ++o)
            for (int j = 0; j < t.out; ++j) {
                const float* src = g.data() + (o * t.out + j) * inner;
                for (int k = 0; k < t.taps; ++k) {
                    const float w = t.w[size_t(j * t.taps + k)];
                    if (w == 0) continue;
                    float* dst = h.data() + (o * t.in + t.idx[size_t(j * t.taps + k)]) * inner;
                    for (int64_t q = 0; q < inner; ++q) dst[q] += w * src[q];
                }
            }
        g.swap(h);
    }
    float* dx = parents[0]->delta->ptr;
    for (size_t i = 0; i < g.size(); ++i) dx[i] = acc ? dx[i] + g[i] : g[i];
}

}  // namespace eddl::onnxio

namespace eddl::onnxio {

// ---- LBatchStats ----

LBatchStats::LBatchStats(layer parent, int cax, bool ob, float e, float m, Out w, const std::vector<float>& scale,
                         const std::vector<float>& bias, const std::vector<float>& mean, const std::vector<float>& var,
                         const std::string& n)
    : channel_axis(cax), over_batch(ob), eps(e), momentum(m), which(w), in_mean(mean), in_var(var) {
    name = n;
    const std::string who = "ONNX BatchNormalization '" + name + "'";
    EDDL_CHECK(parent, who << ": parent layer is null");
    const Shape& in = parent->out_shape;
    EDDL_CHECK(channel_axis >= 0 && channel_axis < int(in.size()), who << ": channel axis " << channel_axis << " of " << shape_str(in));
    parents = {parent};
    outer_ = prod(in, 0, size_t(channel_axis));
    C_ = in[size_t(channel_axis)];
    inner_ = prod(in, size_t(channel_axis) + 1, in.size());
    EDDL_CHECK(int64_t(scale.size()) == C_ && int64_t(bias.size()) == C_ && int64_t(mean.size()) == C_ &&
                   int64_t(var.size()) == C_,
               who << ": shape mismatch: scale, bias, mean and variance need " << C_ << " values each");
    out_shape = which == Out::Y ? in : Shape{int(C_)};
    if (which == Out::Y) {
        params = {Tensor::empty({int(C_)}), Tensor::empty({int(C_)})};
        std::copy(scale.begin(), scale.end(), params[0]->ptr);
        std::copy(bias.begin(), bias.end(), params[1]->ptr);
        gradients = {Tensor::zeros({int(C_)}), Tensor::zeros({int(C_)})};
    }
}

void LBatchStats::forward() {
    const Tensor& x = *parents[0]->output;
    const int64_t B = x.shape[0], S = outer_ * C_ * inner_, groups = over_batch ? 1 : B, per = over_batch ? B : 1;
    const double M = double(per * outer_ * inner_);
    mean_.assign(size_t(groups * C_), 0.0f);
    invstd_.assign(size_t(groups * C_), 0.0f);
    for (int64_t g = 0; g < groups; ++g)
        for (int64_t c = 0; c < C_; ++c) {
            double s = 0, q = 0;
            for (int64_t b = g * per; b < (g + 1) * per; ++b)
                for (int64_t o = 0; o < outer_; ++o) {
                    const float* p = x.ptr + b * S + (o * C_ + c) * inner_;
                    for (int64_t i = 0; i < inner_; ++i) s += p[i];
                }
            const double mu = s / M;
            for (int64_t b = g * per; b < (g + 1) * per; ++b)
                for (int64_t o = 0; o < outer_; ++o) {
                    const float* p = x.ptr + b * S + (o * C_ + c) * inner_;
                    for (int64_t i = 0; i < inner_; ++i) q += (p[i] - mu) * (p[i] - mu);
                }
            const double var = q / M;
            mean_[size_t(g * C_ + c)] = float(mu);
            invstd_[size_t(g * C_ + c)] = float(1.0 / std::sqrt(var + double(eps)));
            if (which == Out::RunningMean) {
                for (int64_t b = g * per; b < (g + 1) * per; ++b) output->ptr[b * C_ + c] = float(in_mean[size_t(c)] * momentum + mu * (1 - momentum));
            } else if (which == Out::RunningVar) {
                for (int64_t b = g * per; b < (g + 1) * per; ++b) output->ptr[b * C_ + c] = float(in_var[size_t(c)] * momentum + var * (1 - momentum));
            } else {
                const float sc = params[0]->ptr[c], bi = params[1]->ptr[c], is = invstd_[size_t(g * C_ + c)];
                for (int64_t b = g * per; b < (g + 1) * per; ++b)
                    for (int64_t o = 0; o < outer_; ++o) {
                        const int64_t off = b * S + (o * C_ + c) * inner_;
                        for (int64_t i = 0; i < inner_; ++i) output->ptr[off + i] = (x.ptr[off + i] - float(mu)) * is * sc + bi;
                    }
            }
        }
}

void LBatchStats::backward() {
    const bool grads = which == Out::Y && trainable, data = parents[0]->needs_delta;
    if (!grads && !data) return;
    const Tensor& x = *parents[0]->output;
    const int64_t B = x.shape[0], S = outer_ * C_ * inner_, groups = over_batch ? 1 : B, per = over_batch ? B : 1;
    const float M = float(per * outer_ * inner_);
    const bool acc_g = grads && take_grads();
    if (grads && !acc_g) {
        gradients[0]->fill_(0.0f);
        gradients[1]->fill_(0.0f);
    }
    float* dx = nullptr;
    if (data) {
        if (!take_parent_delta(0)) parents[0]->delta->fill_(0.0f);
        dx = parents[0]->delta->ptr;
    }
    for (int64_t g = 0; g < groups; ++g)
        for (int64_t c = 0; c < C_; ++c) {
            const float mu = mean_[size_t(g * C_ + c)], is = invstd_[size_t(g * C_ + c)];
            auto each = [&](auto&& f) {
                for (int64_t b = g * per; b < (g + 1) * per; ++b)
                    for (int64_t o = 0; o < outer_; ++o) {
                        const int64_t off = b * S + (o * C_ + c) * inner_;
                        for (int64_t i = 0; i < inner_; ++i) f(b, off + i);
                    }
            };
            if (which != Out::Y) {  // d(running stat)/dx: (1 - momentum) / M, times 2 (x - mean) for the variance
                float d = 0;  // every output of the group holds the same statistic
                for (int64_t b = g * per; b < (g + 1) * per; ++b) d += delta->ptr[b * C_ + c];
                const float dy = d * (1 - momentum) / M;
                each([&](int64_t, int64_t e) {
                    if (dx) dx[e] += which == Out::RunningMean ? dy : dy * 2 * (x.ptr[e] - mu);
                });
                continue;
            }
            float sdy = 0, sdyx = 0;
            each([&](int64_t, int64_t e) {
                const float xh = (x.ptr[e] - mu) * is;
                sdy += delta->ptr[e];
                sdyx += delta->ptr[e] * xh;
            });
            if (grads) {
                gradients[0]->ptr[c] += sdyx;
                gradients[1]->ptr[c] += sdy;
            }
            if (!dx) continue;
            const float sc = params[0]->ptr[c];
            each([&](int64_t, int64_t e) {
                const float xh = (x.ptr[e] - mu) * is;
                dx[e] += sc * is / M * (M * delta->ptr[e] - sdy - xh * sdyx);
            });
        }
}

}  // namespace eddl::onnxio
