// Data movement: axis permutation, slicing and padding, row gathering and scattering, resampling.
#include <algorithm>
#include <cstring>
#include <vector>

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

void slice_backward(const float* src, float* dst, int ndim, const int64_t* dst_dims, const int64_t* starts,
                    const int64_t* src_dims, bool accumulate) {
    int64_t dstride[8], rows = 1, s = 1;
    for (int i = ndim - 1; i >= 0; --i) {
        dstride[i] = s;
        s *= dst_dims[i];
    }
    for (int i = 0; i < ndim - 1; ++i) rows *= src_dims[i];
    const int64_t len = src_dims[ndim - 1];
    parallel_chunks(rows, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {
            int64_t rem = r, off = starts[ndim - 1];
            for (int d = ndim - 2; d >= 0; --d) {
                off += (starts[d] + rem % src_dims[d]) * dstride[d];
                rem /= src_dims[d];
            }
            if (accumulate)
                for (int64_t i = 0; i < len; ++i) dst[off + i] += src[r * len + i];
            else
                std::memcpy(dst + off, src + r * len, len * sizeof(float));
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

void scatter_add_rows(const float* src, float* dst, const int* idx, int64_t nidx, int64_t row_len) {
    // rows may repeat: split the columns, not the rows, across threads
    parallel_chunks(row_len, [&](int64_t lo, int64_t hi) {
        for (int64_t r = 0; r < nidx; ++r) {
            if (idx[r] < 0) continue;
            float* d = dst + int64_t(idx[r]) * row_len;
            const float* s = src + r * row_len;
            for (int64_t c = lo; c < hi; ++c) d[c] += s[c];
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(nidx, 1)));
}

namespace {
// Per output position along one axis: the two source positions and the second one's weight.
// Linear: PyTorch's align_corners=False (half-pixel centres, as Keras); nearest: floor(o * in / out).
struct Tap {
    int i0, i1;
    float w1;
};
std::vector<Tap> taps(int in, int out, bool linear) {
    std::vector<Tap> t(static_cast<size_t>(out));
    for (int o = 0; o < out; ++o) {
        if (!linear) {
            t[size_t(o)] = {int(int64_t(o) * in / out), int(int64_t(o) * in / out), 0.0f};
            continue;
        }
        const float src = std::max((float(o) + 0.5f) * float(in) / float(out) - 0.5f, 0.0f);
        const int i0 = std::min(int(src), in - 1);
        t[size_t(o)] = {i0, std::min(i0 + 1, in - 1), src - float(i0)};
    }
    return t;
}
}  // namespace

void resample(const ResampleGeom& g, const float* src, float* dst) {
    const auto tz = taps(g.id, g.od, g.linear), ty = taps(g.ih, g.oh, g.linear), tx = taps(g.iw, g.ow, g.linear);
    const int64_t in_vol = int64_t(g.id) * g.ih * g.iw, out_vol = int64_t(g.od) * g.oh * g.ow;
    parallel_chunks(g.planes * g.od, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) {  // one output depth slice
            const int64_t p = r / g.od;
            const Tap& z = tz[size_t(r % g.od)];
            const float* s0 = src + p * in_vol + int64_t(z.i0) * g.ih * g.iw;
            const float* s1 = src + p * in_vol + int64_t(z.i1) * g.ih * g.iw;
            float* d = dst + p * out_vol + (r % g.od) * int64_t(g.oh) * g.ow;
            for (int y = 0; y < g.oh; ++y) {
                const Tap& ty_ = ty[size_t(y)];
                for (int x = 0; x < g.ow; ++x) {
                    const Tap& tx_ = tx[size_t(x)];
                    auto plane = [&](const float* s) {
                        const float* a = s + int64_t(ty_.i0) * g.iw;
                        const float* b = s + int64_t(ty_.i1) * g.iw;
                        const float top = a[tx_.i0] + tx_.w1 * (a[tx_.i1] - a[tx_.i0]);
                        const float bottom = b[tx_.i0] + tx_.w1 * (b[tx_.i1] - b[tx_.i0]);
                        return top + ty_.w1 * (bottom - top);
                    };
                    const float v0 = plane(s0);
                    d[int64_t(y) * g.ow + x] = z.w1 == 0.0f ? v0 : v0 + z.w1 * (plane(s1) - v0);
                }
            }
        }
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(int64_t(g.oh) * g.ow, 1)));
}

void resample_backward(const ResampleGeom& g, const float* ddst, float* dsrc, bool accumulate) {
    const auto tz = taps(g.id, g.od, g.linear), ty = taps(g.ih, g.oh, g.linear), tx = taps(g.iw, g.ow, g.linear);
    const int64_t in_vol = int64_t(g.id) * g.ih * g.iw, out_vol = int64_t(g.od) * g.oh * g.ow;
    parallel_chunks(g.planes, [&](int64_t lo, int64_t hi) {  // planes are disjoint: no write races
        for (int64_t p = lo; p < hi; ++p) {
            float* ds = dsrc + p * in_vol;
            if (!accumulate) std::memset(ds, 0, size_t(in_vol) * sizeof(float));
            const float* dd = ddst + p * out_vol;
            for (int z = 0; z < g.od; ++z)
                for (int y = 0; y < g.oh; ++y)
                    for (int x = 0; x < g.ow; ++x) {
                        const float v = dd[(int64_t(z) * g.oh + y) * g.ow + x];
                        const Tap &a = tz[size_t(z)], &b = ty[size_t(y)], &c = tx[size_t(x)];
                        const int zi[2] = {a.i0, a.i1}, yi[2] = {b.i0, b.i1}, xi[2] = {c.i0, c.i1};
                        const float zw[2] = {1 - a.w1, a.w1}, yw[2] = {1 - b.w1, b.w1}, xw[2] = {1 - c.w1, c.w1};
                        for (int i = 0; i < 2; ++i)
                            for (int j = 0; j < 2; ++j)
                                for (int k = 0; k < 2; ++k)
                                    ds[(int64_t(zi[i]) * g.ih + yi[j]) * g.iw + xi[k]] += v * zw[i] * yw[j] * xw[k];
                    }
        }
    }, 1);
}

}  // namespace eddl::cpu
