// CPU kernels, one file per op family; register.cpp puts them in the dispatch table.
#pragma once
#include "tensor/dispatch.h"

namespace eddl::cpu {

// Hot element-wise loops are compiled for AVX-512, AVX2 and baseline x86-64; the loader picks
// the best for the running CPU (GCC function multi-versioning), so binaries stay portable.
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define EDDL_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EDDL_MULTIVERSION
#endif

// Below this many elements an op runs on one thread: spawning costs more than it saves.
constexpr int64_t kParallelGrain = 1 << 15;

void unary(UnaryOp op, const float* src, float* dst, int64_t n, float a, float b);
void unary_backward(UnaryOp op, const float* x, const float* y, const float* dy, float* dx, int64_t n,
                    float a, float b, bool accumulate);
void binary(BinaryOp op, const float* A, const float* B, float* C, const BroadcastPlan& p);
void fill(float* dst, int64_t n, float v);
void axpby(float a, const float* x, float b, float* y, int64_t n);
void copy(const float* src, float* dst, int64_t n);
void add_rowwise(float* C, const float* bias, int64_t rows, int64_t cols);

void reduce(ReduceOp op, const float* src, float* dst, int64_t outer, int64_t r, int64_t inner);
void sum_rows(const float* src, float* dst, int64_t rows, int64_t cols, bool accumulate);

void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
          int ldb, float beta, float* C, int ldc);

void permute(const float* src, float* dst, int ndim, const int64_t* src_dims, const int* perm);
void upsample_nearest(const float* src, float* dst, int64_t planes, int ih, int iw, int sh, int sw);
void upsample_nearest_backward(const float* ddst, float* dsrc, int64_t planes, int ih, int iw, int sh, int sw,
                               bool accumulate);
void gather_rows(const float* src, float* dst, const int* idx, int64_t nidx, int64_t row_len);
void scatter_add_rows(const float* src, float* dst, const int* idx, int64_t nidx, int64_t row_len);
void slice_backward(const float* src, float* dst, int ndim, const int64_t* dst_dims, const int64_t* starts,
                    const int64_t* src_dims, bool accumulate);
void warp(const WarpGeom& g, const float* mats, const int* boxes, const float* src, float* dst);
/// The bilinear taps `warp` uses for output pixel (y, x) under sampling matrix m: up to 4
/// (index into the input plane, -1 for the constant; weight); returns how many. The ONNX
/// export writes them as Gathers.
int warp_taps(const WarpGeom& g, const float* m, int y, int x, int64_t* index, float* weight);
void warp_backward(const WarpGeom& g, const float* mats, const int* boxes, const float* ddst, float* dsrc,
                   bool accumulate);
void resample(const ResampleGeom& g, const float* src, float* dst);
void resample_backward(const ResampleGeom& g, const float* ddst, float* dsrc, bool accumulate);
void slice(const float* src, float* dst, int ndim, const int64_t* src_dims, const int64_t* starts,
           const int64_t* out_dims);

void softmax(const float* src, float* dst, int64_t rows, int64_t cols);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool accumulate);

void conv_inference(const ConvGeom& g, const float* src, const float* w, const float* b, const ConvEpilogue& e,
                    float* dst);
void conv(const ConvGeom& g, const float* src, const float* w, const float* b, float* dst);

// Winograd F(2x2, 3x3) inference convolution (winograd.cpp) for 3x3 stride-1 layers whose input
// and output are channel-blocked (block 8 or 16), on CPUs where oneDNN has no Winograd kernel.
// Weights: winograd_f23_weights_size floats made by winograd_f23_weights from [oc][ic][3][3]
// (times scale[oc] if given), or with transposed from [ic][oc][3][3] rotated by 180 degrees (the
// backward-data convolution of a layer whose weights those are). Tiles go through in chunks of `chunk` (winograd_f23_chunk's size
// by default), with scratch V of 16 * chunk * ic floats and M of 16 * chunk * oc. Results do not
// depend on the thread count.
bool winograd_f23_fits(const ConvGeom& g, int block);
int64_t winograd_f23_weights_size(const ConvGeom& g);
int winograd_f23_chunk(const ConvGeom& g);
void winograd_f23_weights(const ConvGeom& g, const float* w, const float* scale, float* weights,
                          bool transposed = false);
void winograd_f23(const ConvGeom& g, int block, const float* src, const float* weights, const float* bias, bool relu,
                  float* dst, float* V, float* M, int chunk);
// The weight gradient [oc][ic][3][3] of such a layer from its input and its output's gradient
// (both blocked), written or added (accumulate). Scratch: V as above, E of 16 * chunk * oc floats,
// S of 16 * oc * ic.
void winograd_f23_weight_grad(const ConvGeom& g, int block, const float* src, const float* ddst, float* dw,
                              bool accumulate, float* V, float* E, float* S, int chunk);
void conv_backward(const ConvGeom& g, const float* src, const float* w, const float* ddst, float* dw, float* db,
                   bool acc_grads, float* dsrc, bool acc_dsrc);
void conv_transpose(const ConvGeom& g, const float* src, const float* w, const float* b, float* dst);
void conv_transpose_backward(const ConvGeom& g, const float* src, const float* w, const float* ddst, float* dw,
                             float* db, bool acc_grads, float* dsrc, bool acc_dsrc);
int64_t pool_workspace(const PoolGeom& g);
void pool(const PoolGeom& g, const float* src, float* dst, float* ws);
void pool_backward(const PoolGeom& g, const float* ddst, const float* ws, float* dsrc, bool accumulate);

void batchnorm(const NormGeom& g, const float* x, const float* gamma, const float* beta, float* y, float* mean,
               float* invstd, float* rmean, float* rvar, float momentum, bool training);
void batchnorm_backward(const NormGeom& g, const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* invstd, float* dx, float* dgamma, float* dbeta, bool training, bool accumulate_dx,
                        bool accumulate_grads);

void groupnorm(const GroupNormGeom& g, const float* x, const float* gamma, const float* beta, float* y, float* mean,
               float* invstd);
void groupnorm_backward(const GroupNormGeom& g, const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* invstd, float* dx, float* dgamma, float* dbeta, bool accumulate_dx,
                        bool accumulate_grads);

double loss(LossKind k, const float* y, const float* t, float* delta, int64_t rows, int64_t cols, float scale,
            bool accumulate);
void optim_update(const OptimStep& st, float* w, const float* g, float* s1, float* s2, float* s3, int64_t n);

}  // namespace eddl::cpu

#include <omp.h>
#include <algorithm>

namespace eddl::cpu {

/// Splits [0, n) into one contiguous chunk per OpenMP thread; small n runs inline.
template <class F>
void parallel_chunks(int64_t n, F&& f, int64_t grain = kParallelGrain) {
    if (n < grain || omp_get_max_threads() == 1 || omp_in_parallel()) {
        if (n > 0) f(int64_t{0}, n);
        return;
    }
#pragma omp parallel
    {
        const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
        const int64_t chunk = (n + nt - 1) / nt;
        const int64_t lo = t * chunk, hi = std::min(n, lo + chunk);
        if (lo < hi) f(lo, hi);
    }
}

}  // namespace eddl::cpu
