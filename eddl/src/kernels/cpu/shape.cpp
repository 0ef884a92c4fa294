// Data movement: axis permutation and row gathering.
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {

void permute(const float* src, float* dst, int ndim, const int64_t* src_dims, const int* perm) {
    int64_t sstride[8], ddims[8], n = 1;
    for (int i = ndim - 1; i >= 0; --i) {
        sstride[i] = n;
        n *= src_dims[i];
    }
    for (int i = 0; i < ndim; ++i) ddims[i] = src_dims[perm[i]];
    // Each destination element reads the source element its multi-index maps to.
    parallel_chunks(n, [&](int64_t lo, int64_t hi) {
        for (int64_t o = lo; o < hi; ++o) {
            int64_t rem = o, off = 0;
            for (int d = ndim - 1; d >= 0; --d) {
                off += (rem % ddims[d]) * sstride[perm[d]];
                rem /= ddims[d];
            }
            dst[o] = src[off];
        }
    });
}

void slice(const float* src, float* dst, int ndim, const int64_t* src_dims, const int64_t* starts,
           const int64_t* out_dims) {
    int64_t sstride[8], rows = 1, s = 1;
    for (int i = ndim - 1; i >= 0; --i) {
        sstride[i] = s;
        s *= src_dims[i];
    }
    for (int i = 0; i < ndim - 1; ++i) rows *= out_dims[i];
    const int64_t len = out_dims[ndim - 1];
    // One contiguous run of the last dimension per output row.
    parallel_chunks(rows, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
            int64_t rem = r, off = starts[ndim - 1];
            for (int d = ndim - 2; d >= 0; --d) {
                off += (starts[d] + rem % out_dims[d]) * sstride[d];
                rem /= out_dims[d];
            }
            std::memcpy(dst + r * len, src + off, len * sizeof(float));
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(len, 1)));
}

void upsample_nearest(const float* src, float* dst, int64_t planes, int ih, int iw, int sh, int sw) {
    const int ow = iw * sw;
    parallel_chunks(planes * ih, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {  // one input row -> sh output rows
            const float* s = src + r * iw;
            float* d = dst + r * sh * ow;
            for (int x = 0; x < ow; ++x) d[x] = s[x / sw];
            for (int k = 1; k < sh; ++k) std::memcpy(d + k * ow, d, size_t(ow) * sizeof(float));
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max(1, ow * sh)));
}

void upsample_nearest_backward(const float* ddst, float* dsrc, int64_t planes, int ih, int iw, int sh, int sw,
                               bool accumulate) {
    const int ow = iw * sw;
    parallel_chunks(planes * ih, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
            float* d = dsrc + r * iw;
            if (!accumulate) std::fill(d, d + iw, 0.0f);
            for (int k = 0; k < sh; ++k) {
                const float* s = ddst + (r * sh + k) * ow;
                for (int x = 0; x < ow; ++x) d[x / sw] += s[x];
            }
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max(1, ow * sh)));
}

void gather_rows(const float* src, float* dst, const int* idx, int64_t nidx, int64_t row_len) {
    parallel_chunks(nidx, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r)
            std::memcpy(dst + r * row_len, src + int64_t(idx[r]) * row_len, row_len * sizeof(float));
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(row_len, 1)));
}

}  // namespace eddl::cpu
