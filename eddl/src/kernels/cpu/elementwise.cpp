// Element-wise unary and broadcasting binary ops, and their activation derivatives.
#include <Eigen/Core>
#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {
namespace {

using CArr = Eigen::Map<const Eigen::ArrayXf>;
using Arr = Eigen::Map<Eigen::ArrayXf>;

constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kSeluScale = 1.0507009873554805f;

inline float sigmoidf(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float softplusf(float x) { return x > 20.f ? x : std::log1p(std::exp(x)); }

EDDL_MULTIVERSION void unary_chunk(UnaryOp op, const float* s, float* d, int64_t n, float a, float b) {
    CArr X(s, n);
    Arr Y(d, n);
    switch (op) {
        case UnaryOp::Copy: if (s != d) std::memcpy(d, s, n * sizeof(float)); break;
        case UnaryOp::Abs: Y = X.abs(); break;
        case UnaryOp::Neg: Y = -X; break;
        case UnaryOp::Exp: case UnaryOp::Exponential: Y = X.exp(); break;
        case UnaryOp::Log: Y = X.log(); break;
        case UnaryOp::Log2: Y = X.log() * float(1.0 / std::log(2.0)); break;
        case UnaryOp::Log10: Y = X.log10(); break;
        case UnaryOp::Sqrt: Y = X.sqrt(); break;
        case UnaryOp::Rsqrt: Y = X.rsqrt(); break;
        case UnaryOp::Sqr: Y = X.square(); break;
        case UnaryOp::Inv: Y = X.inverse(); break;
        case UnaryOp::Sin: Y = X.sin(); break;
        case UnaryOp::Cos: Y = X.cos(); break;
        case UnaryOp::Tan: Y = X.tan(); break;
        case UnaryOp::Asin: Y = X.asin(); break;
        case UnaryOp::Acos: Y = X.acos(); break;
        case UnaryOp::Atan: Y = X.atan(); break;
        case UnaryOp::Sinh: Y = X.sinh(); break;
        case UnaryOp::Cosh: Y = X.cosh(); break;
        case UnaryOp::Tanh: Y = X.tanh(); break;
        case UnaryOp::Sigmoid: Y = (1.0f + (-X).exp()).inverse(); break;
        case UnaryOp::Relu: Y = X.max(0.0f); break;
        case UnaryOp::Ceil: Y = X.ceil(); break;
        case UnaryOp::Floor: Y = X.floor(); break;
        case UnaryOp::Round: for (int64_t i = 0; i < n; ++i) d[i] = std::nearbyint(s[i]); break;
        case UnaryOp::Trunc: for (int64_t i = 0; i < n; ++i) d[i] = std::trunc(s[i]); break;
        case UnaryOp::Sign: Y = X.sign(); break;
        case UnaryOp::Clamp: Y = X.max(a).min(b); break;
        case UnaryOp::Pow: Y = X.pow(a); break;
        case UnaryOp::AddScalar: Y = X + a; break;
        case UnaryOp::MulScalar: Y = X * a; break;
        case UnaryOp::Affine: Y = X * a + b; break;
        case UnaryOp::LeakyRelu:
            for (int64_t i = 0; i < n; ++i) d[i] = s[i] * (s[i] > 0 ? 1.0f : a);
            break;
        case UnaryOp::Elu: for (int64_t i = 0; i < n; ++i) d[i] = s[i] > 0 ? s[i] : a * std::expm1(s[i]); break;
        case UnaryOp::Selu:
            for (int64_t i = 0; i < n; ++i)
                d[i] = kSeluScale * (s[i] > 0 ? s[i] : kSeluAlpha * std::expm1(s[i]));
            break;
        case UnaryOp::Softplus: for (int64_t i = 0; i < n; ++i) d[i] = softplusf(s[i]); break;
        case UnaryOp::Softsign: Y = X / (1.0f + X.abs()); break;
        case UnaryOp::HardSigmoid: Y = (X * 0.2f + 0.5f).max(0.0f).min(1.0f); break;
        case UnaryOp::ThresholdedRelu: Y = (X > a).select(X, 0.0f); break;
        case UnaryOp::Linear: Y = X * a; break;
        case UnaryOp::Gelu:
            for (int64_t i = 0; i < n; ++i) d[i] = 0.5f * s[i] * (1.0f + std::erf(s[i] * float(M_SQRT1_2)));
            break;
        case UnaryOp::Swish: for (int64_t i = 0; i < n; ++i) d[i] = s[i] * sigmoidf(s[i]); break;
    }
}

// f'(x) * dy, given x and y = f(x)
template <bool Acc>
EDDL_MULTIVERSION void unary_backward_chunk(UnaryOp op, const float* __restrict x, const float* __restrict y,
                          const float* __restrict dy, float* __restrict dx, int64_t n, float a, float b) {
    auto put = [dx](int64_t i, float v) {
        if constexpr (Acc) dx[i] += v; else dx[i] = v;
    };
    switch (op) {
        case UnaryOp::Copy: for (int64_t i = 0; i < n; ++i) put(i, dy[i]); break;
        case UnaryOp::Relu: for (int64_t i = 0; i < n; ++i) put(i, x[i] > 0 ? dy[i] : 0.0f); break;
        case UnaryOp::LeakyRelu:
            for (int64_t i = 0; i < n; ++i) put(i, dy[i] * (x[i] > 0 ? 1.0f : a));
            break;
        case UnaryOp::Elu: for (int64_t i = 0; i < n; ++i) put(i, x[i] > 0 ? dy[i] : dy[i] * (y[i] + a)); break;
        case UnaryOp::Selu:
            for (int64_t i = 0; i < n; ++i)
                put(i, x[i] > 0 ? kSeluScale * dy[i] : dy[i] * (y[i] + kSeluScale * kSeluAlpha));
            break;
        case UnaryOp::Sigmoid: for (int64_t i = 0; i < n; ++i) put(i, dy[i] * y[i] * (1.0f - y[i])); break;
        case UnaryOp::Tanh: for (int64_t i = 0; i < n; ++i) put(i, dy[i] * (1.0f - y[i] * y[i])); break;
        case UnaryOp::Softplus: for (int64_t i = 0; i < n; ++i) put(i, dy[i] * sigmoidf(x[i])); break;
        case UnaryOp::Softsign:
            for (int64_t i = 0; i < n; ++i) {
                const float t = 1.0f + std::fabs(x[i]);
                put(i, dy[i] / (t * t));
            }
            break;
        case UnaryOp::HardSigmoid:
            for (int64_t i = 0; i < n; ++i) put(i, (x[i] > -2.5f && x[i] < 2.5f) ? 0.2f * dy[i] : 0.0f);
            break;
        case UnaryOp::ThresholdedRelu: for (int64_t i = 0; i < n; ++i) put(i, x[i] > a ? dy[i] : 0.0f); break;
        case UnaryOp::Exp: case UnaryOp::Exponential: for (int64_t i = 0; i < n; ++i) put(i, dy[i] * y[i]); break;
        case UnaryOp::Linear: case UnaryOp::MulScalar: for (int64_t i = 0; i < n; ++i) put(i, a * dy[i]); break;
        case UnaryOp::Affine: for (int64_t i = 0; i < n; ++i) put(i, a * dy[i]); break;
        case UnaryOp::AddScalar: case UnaryOp::Neg:
            for (int64_t i = 0; i < n; ++i) put(i, op == UnaryOp::Neg ? -dy[i] : dy[i]);
            break;
        case UnaryOp::Gelu:
            for (int64_t i = 0; i < n; ++i) {
                const float cdf = 0.5f * (1.0f + std::erf(x[i] * float(M_SQRT1_2)));
                const float pdf = std::exp(-0.5f * x[i] * x[i]) * float(0.3989422804014327);
                put(i, dy[i] * (cdf + x[i] * pdf));
            }
            break;
        case UnaryOp::Swish:
            for (int64_t i = 0; i < n; ++i) {
                const float s = sigmoidf(x[i]);
                put(i, dy[i] * (s + x[i] * s * (1.0f - s)));
            }
            break;
        case UnaryOp::Log: for (int64_t i = 0; i < n; ++i) put(i, dy[i] / x[i]); break;
        case UnaryOp::Sqrt: for (int64_t i = 0; i < n; ++i) put(i, dy[i] * 0.5f / y[i]); break;
        case UnaryOp::Sqr: for (int64_t i = 0; i < n; ++i) put(i, dy[i] * 2.0f * x[i]); break;
        case UnaryOp::Abs: for (int64_t i = 0; i < n; ++i) put(i, x[i] > 0 ? dy[i] : (x[i] < 0 ? -dy[i] : 0.f)); break;
        case UnaryOp::Pow: for (int64_t i = 0; i < n; ++i) put(i, dy[i] * a * std::pow(x[i], a - 1.0f)); break;
        case UnaryOp::Clamp:
            for (int64_t i = 0; i < n; ++i) put(i, (x[i] >= a && x[i] <= b) ? dy[i] : 0.f);
            break;
        default:
            EDDL_FAIL("unary_backward: op " << int(op) << " has no derivative");
    }
}

}  // namespace

void unary(UnaryOp op, const float* src, float* dst, int64_t n, float a, float b) {
    parallel_chunks(n, [&](int64_t lo, int64_t hi) { unary_chunk(op, src + lo, dst + lo, hi - lo, a, b); });
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n, float a,
                    float b, bool accumulate) {
    parallel_chunks(n, [&](int64_t lo, int64_t hi) {
        if (accumulate)
            unary_backward_chunk<true>(op, x + lo, y + lo, dy + lo, dx + lo, hi - lo, a, b);
        else
            unary_backward_chunk<false>(op, x + lo, y + lo, dy + lo, dx + lo, hi - lo, a, b);
    });
}

namespace {
template <class F>
void binary_loop(const float* A, const float* B, float* C, const BroadcastPlan& p, F f) {
    const int nd = p.ndim;
    bool same = true, bscalar = true;
    int64_t contiguous = 1;
    for (int i = nd - 1; i >= 0; --i) {
        if (p.sa[i] != contiguous || p.sb[i] != contiguous) same = false;
        if (p.sb[i] != 0) bscalar = false;
        contiguous *= p.dims[i];
    }
    if (nd == 0) same = true;
    if (same) {
        parallel_chunks(p.n, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; ++i) C[i] = f(A[i], B[i]);
        });
        return;
    }
    bool acontig = true;
    contiguous = 1;
    for (int i = nd - 1; i >= 0; --i) {
        if (p.sa[i] != contiguous) acontig = false;
        contiguous *= p.dims[i];
    }
    if (acontig && bscalar) {
        const float b = B[0];
        parallel_chunks(p.n, [&](int64_t lo, int64_t hi) {
            for (int64_t i = lo; i < hi; ++i) C[i] = f(A[i], b);
        });
        return;
    }
    // General case: rows of the innermost dimension, each row's start found from its index.
    const int64_t inner = p.dims[nd - 1], ia = p.sa[nd - 1], ib = p.sb[nd - 1];
    const int64_t rows = p.n / std::max<int64_t>(inner, 1);
    parallel_chunks(rows, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
            int64_t rem = r, oa = 0, ob = 0;
            for (int d = nd - 2; d >= 0; --d) {
                const int64_t idx = rem % p.dims[d];
                rem /= p.dims[d];
                oa += idx * p.sa[d];
                ob += idx * p.sb[d];
            }
            float* c = C + r * inner;
            for (int64_t j = 0; j < inner; ++j) c[j] = f(A[oa + j * ia], B[ob + j * ib]);
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1)));
}
}  // namespace

void binary(BinaryOp op, const float* A, const float* B, float* C, const BroadcastPlan& p) {
    switch (op) {
        case BinaryOp::Add: binary_loop(A, B, C, p, [](float a, float b) { return a + b; }); break;
        case BinaryOp::Sub: binary_loop(A, B, C, p, [](float a, float b) { return a - b; }); break;
        case BinaryOp::Mul: binary_loop(A, B, C, p, [](float a, float b) { return a * b; }); break;
        case BinaryOp::Div: binary_loop(A, B, C, p, [](float a, float b) { return a / b; }); break;
        case BinaryOp::Max: binary_loop(A, B, C, p, [](float a, float b) { return a > b ? a : b; }); break;
        case BinaryOp::Min: binary_loop(A, B, C, p, [](float a, float b) { return a < b ? a : b; }); break;
    }
}

void fill(float* dst, int64_t n, float v) {
    parallel_chunks(n, [&](int64_t lo, int64_t hi) { std::fill(dst + lo, dst + hi, v); });
}

void axpby(float a, const float* x, float b, float* y, int64_t n) {
    parallel_chunks(n, [&](int64_t lo, int64_t hi) {
        if (b == 0.0f)
            for (int64_t i = lo; i < hi; ++i) y[i] = a * x[i];
        else
            for (int64_t i = lo; i < hi; ++i) y[i] = a * x[i] + b * y[i];
    });
}

void copy(const float* src, float* dst, int64_t n) {
    parallel_chunks(n, [&](int64_t lo, int64_t hi) { std::memcpy(dst + lo, src + lo, (hi - lo) * sizeof(float)); });
}

void add_rowwise(float* C, const float* bias, int64_t rows, int64_t cols) {
    parallel_chunks(rows, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
            float* c = C + r * cols;
            for (int64_t j = 0; j < cols; ++j) c[j] += bias[j];
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)));
}

}  // namespace eddl::cpu
