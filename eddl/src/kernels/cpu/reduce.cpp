// Reductions over the middle axis of an [outer, r, inner] view, column sums, and softmax.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {

void reduce(ReduceOp op, const float* src, float* dst, int64_t outer, int64_t r, int64_t inner) {
    const int64_t nout = outer * inner;
    parallel_chunks(nout, [&](int64_t lo, int64_t hi) {
        for (int64_t o = lo; o < hi; ++o) {
            const int64_t oi = o / inner, ii = o % inner;
            const float* s = src + oi * r * inner + ii;
            switch (op) {
                case ReduceOp::Sum: case ReduceOp::Mean: {
                    double acc = 0;  // double: sums of millions of floats keep their digits
                    for (int64_t k = 0; k < r; ++k) acc += s[k * inner];
                    dst[o] = float(op == ReduceOp::Mean ? acc / double(r) : acc);
                    break;
                }
                case ReduceOp::Var: {
                    double mean = 0;
                    for (int64_t k = 0; k < r; ++k) mean += s[k * inner];
                    mean /= double(r);
                    double acc = 0;
                    for (int64_t k = 0; k < r; ++k) {
                        const double d = s[k * inner] - mean;
                        acc += d * d;
                    }
                    dst[o] = float(acc / double(r));
                    break;
                }
                case ReduceOp::Max: case ReduceOp::Min: case ReduceOp::ArgMax: {
                    float best = s[0];
                    int64_t arg = 0;
                    for (int64_t k = 1; k < r; ++k) {
                        const float v = s[k * inner];
                        if (op == ReduceOp::Min ? v < best : v > best) {
                            best = v;
                            arg = k;
                        }
                    }
                    dst[o] = op == ReduceOp::ArgMax ? float(arg) : best;
                    break;
                }
            }
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(r, 1)));
}

void sum_rows(const float* src, float* dst, int64_t rows, int64_t cols, bool accumulate) {
    parallel_chunks(cols, [&](int64_t lo, int64_t hi) {
        std::vector<float> acc(src + lo, src + hi);
        for (int64_t r = 1; r < rows; ++r) {
            const float* s = src + r * cols;
            for (int64_t c = lo; c < hi; ++c) acc[c - lo] += s[c];
        }
        for (int64_t c = lo; c < hi; ++c) dst[c] = accumulate ? dst[c] + acc[c - lo] : acc[c - lo];
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(rows, 1)));
}

void softmax(const float* src, float* dst, int64_t rows, int64_t cols) {
    parallel_chunks(rows, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
            const float* s = src + r * cols;
            float* d = dst + r * cols;
            float m = -std::numeric_limits<float>::infinity();
            for (int64_t c = 0; c < cols; ++c) m = std::max(m, s[c]);
            double z = 0;
            for (int64_t c = 0; c < cols; ++c) {
                d[c] = std::exp(s[c] - m);
                z += d[c];
            }
            const float inv = float(1.0 / z);
            for (int64_t c = 0; c < cols; ++c) d[c] *= inv;
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)));
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool accumulate) {
    parallel_chunks(rows, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
            const float* yr = y + r * cols;
            const float* g = dy + r * cols;
            float* d = dx + r * cols;
            double dot = 0;
            for (int64_t c = 0; c < cols; ++c) dot += double(yr[c]) * g[c];
            for (int64_t c = 0; c < cols; ++c) {
                const float v = yr[c] * (g[c] - float(dot));
                d[c] = accumulate ? d[c] + v : v;
            }
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(cols, 1)));
}

}  // namespace eddl::cpu
