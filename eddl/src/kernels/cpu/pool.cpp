// Max and average pooling on NCHW and NCDHW (1-D is 2-D with H = 1), one OpenMP task per
// (image, channel) plane or volume.
// Native rather than oneDNN: on NCHW oneDNN's pooling ran ~10x slower than these loops (which are
// memory-bound), and on the channel-blocked layout its AVX2 kernels ran ~10-25x slower than the
// same loops over a block's lanes.
#include <algorithm>
#include <cstring>
#include <limits>


#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/onednn.h"

namespace eddl::cpu {
namespace {

struct Window {
    int z0, z1, y0, y1, x0, x1;  // clipped to the volume, [z0, z1) x [y0, y1) x [x0, x1)
    int count() const { return (z1 - z0) * (y1 - y0) * (x1 - x0); }
};

inline Window window(const PoolGeom& g, int oz, int oy, int ox) {
    const int zs = oz * g.sd - g.pf, ys = oy * g.sh - g.pt, xs = ox * g.sw - g.pl;
    return {std::max(zs, 0), std::min(zs + g.kd, g.id), std::max(ys, 0),
            std::min(ys + g.kh, g.ih), std::max(xs, 0), std::min(xs + g.kw, g.iw)};
}

// the average's divisor: the window inside the input, or (count_pad) inside the padded input
inline float divisor(const PoolGeom& g, const Window& w, int oz, int oy, int ox) {
    if (!g.count_pad) return float(w.count());
    const int zs = oz * g.sd - g.pf, ys = oy * g.sh - g.pt, xs = ox * g.sw - g.pl;
    return float((std::min(zs + g.kd, g.id + g.cpk) - zs) * (std::min(ys + g.kh, g.ih + g.cpb) - ys) *
                 (std::min(xs + g.kw, g.iw + g.cpr) - xs));
}

// max over a dilated window (taps outside the input skipped); returns the volume offset (-1 and
// -inf when no tap falls inside)
inline int32_t dilated_max(const PoolGeom& g, const float* s, int oz, int oy, int ox, float& best) {
    const int zs = oz * g.sd - g.pf, ys = oy * g.sh - g.pt, xs = ox * g.sw - g.pl;
    best = -std::numeric_limits<float>::infinity();
    int32_t at = -1;
    for (int kz = 0; kz < g.kd; ++kz)
        for (int ky = 0; ky < g.kh; ++ky)
            for (int kx = 0; kx < g.kw; ++kx) {
                const int z = zs + kz * g.dd, y = ys + ky * g.dh, x = xs + kx * g.dw;
                if (z < 0 || z >= g.id || y < 0 || y >= g.ih || x < 0 || x >= g.iw) continue;
                const int32_t i = (z * g.ih + y) * g.iw + x;
                if (at < 0 || s[i] > best) {
                    best = s[i];
                    at = i;
                }
            }
    return at;
}

template <class F>
void for_planes(const PoolGeom& g, F f) {
    const int64_t planes = int64_t(g.n) * g.c, plane = int64_t(g.id) * g.ih * g.iw;
    parallel_chunks(planes, [&](int64_t lo, int64_t hi) {
        for (int64_t p = lo; p < hi; ++p) f(p);
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(plane, 1)));
}

// One output row of 2x2 / stride 2 max pooling. Comparisons become 0/1 integers, not branches:
// on real data a branch per comparison mispredicts about half the time.
EDDL_MULTIVERSION void max2x2_row(const float* __restrict r0, const float* __restrict r1, float* __restrict d,
                                  int32_t* __restrict a, int ow, int row_base, int iw) {
    for (int ox = 0; ox < ow; ++ox) {
        const int x = 2 * ox;
        const float p = r0[x], q = r0[x + 1], u = r1[x], v = r1[x + 1];
        const float top = p > q ? p : q, bottom = u > v ? u : v;
        const int itop = int(q > p), ibottom = iw + int(v > u);
        const int use_bottom = int(bottom > top);
        d[ox] = use_bottom ? bottom : top;
        a[ox] = row_base + x + (use_bottom ? ibottom : itop);
    }
}

// ---- blocked ([N][C/B][H][W][B], see block_channels): the same loops on the B lanes of a channel
// block. oneDNN 2.6's AVX2 kernels took 7.8 ms (training, with workspace) and 2.9 ms (inference)
// for VGG-16's first max pooling (64x224x224, 2x2) on one thread; this loop 0.3 ms. ----

// Output rows [lo, hi), row r = plane * oh + oy with plane = image * (c / B) + block. The max's
// workspace holds, per output lane, the plane offset (y * iw + x) of its maximum.
template <int B>
[[gnu::always_inline]] inline void pool_blocked_rows(const PoolGeom& g, const float* src, float* dst, int32_t* arg,
                                                     int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
        const int oy = int(r % g.oh);
        const float* s = src + (r / g.oh) * g.ih * g.iw * B;
        for (int ox = 0; ox < g.ow; ++ox) {
            const Window w = window(g, 0, oy, ox);
            float* d = dst + (r * g.ow + ox) * B;
            if (g.kind == PoolKind::Max) {
                float best[B];
                int32_t at[B];
                const int32_t first = w.y0 * g.iw + w.x0;
                for (int l = 0; l < B; ++l) {
                    best[l] = s[first * B + l];
                    at[l] = first;
                }
                for (int y = w.y0; y < w.y1; ++y)
                    for (int x = w.x0; x < w.x1; ++x) {
                        const int32_t i = y * g.iw + x;
                        for (int l = 0; l < B; ++l) {  // selects, not branches (see max2x2_row)
                            const float v = s[i * B + l];
                            const bool gt = v > best[l];
                            at[l] = gt ? i : at[l];
                            best[l] = gt ? v : best[l];
                        }
                    }
                int32_t* a = arg + (r * g.ow + ox) * B;
                for (int l = 0; l < B; ++l) {
                    d[l] = best[l];
                    a[l] = at[l];
                }
            } else {
                float sum[B] = {};
                for (int y = w.y0; y < w.y1; ++y)
                    for (int x = w.x0; x < w.x1; ++x)
                        for (int l = 0; l < B; ++l) sum[l] += s[(y * g.iw + x) * B + l];
                const float n = float(w.count());
                for (int l = 0; l < B; ++l) d[l] = sum[l] / n;
            }
        }
    }
}

// Planes [lo, hi) of the input's gradient (one thread per plane: windows overlap).
template <int B>
[[gnu::always_inline]] inline void pool_blocked_backward_planes(const PoolGeom& g, const float* ddst, const int32_t* arg,
                                                                float* dsrc, bool accumulate, int64_t lo, int64_t hi) {
    const int64_t in_plane = int64_t(g.ih) * g.iw * B, out_plane = int64_t(g.oh) * g.ow * B;
    for (int64_t p = lo; p < hi; ++p) {
        float* ds = dsrc + p * in_plane;
        const float* dd = ddst + p * out_plane;
        if (!accumulate) std::memset(ds, 0, size_t(in_plane) * sizeof(float));
        if (g.kind == PoolKind::Max) {
            const int32_t* a = arg + p * out_plane;
            for (int64_t o = 0; o < out_plane; o += B)
                for (int l = 0; l < B; ++l) ds[a[o + l] * B + l] += dd[o + l];
            continue;
        }
        for (int oy = 0; oy < g.oh; ++oy)
            for (int ox = 0; ox < g.ow; ++ox) {
                const Window w = window(g, 0, oy, ox);
                float v[B];
                for (int l = 0; l < B; ++l) v[l] = dd[(oy * g.ow + ox) * B + l] / float(w.count());
                for (int y = w.y0; y < w.y1; ++y)
                    for (int x = w.x0; x < w.x1; ++x)
                        for (int l = 0; l < B; ++l) ds[(y * g.iw + x) * B + l] += v[l];
            }
    }
}

EDDL_MULTIVERSION void pool_blocked_rows_8(const PoolGeom& g, const float* src, float* dst, int32_t* arg, int64_t lo,
                                           int64_t hi) {
    pool_blocked_rows<8>(g, src, dst, arg, lo, hi);
}
EDDL_MULTIVERSION void pool_blocked_rows_16(const PoolGeom& g, const float* src, float* dst, int32_t* arg, int64_t lo,
                                            int64_t hi) {
    pool_blocked_rows<16>(g, src, dst, arg, lo, hi);
}
EDDL_MULTIVERSION void pool_blocked_backward_8(const PoolGeom& g, const float* ddst, const int32_t* arg, float* dsrc,
                                               bool accumulate, int64_t lo, int64_t hi) {
    pool_blocked_backward_planes<8>(g, ddst, arg, dsrc, accumulate, lo, hi);
}
EDDL_MULTIVERSION void pool_blocked_backward_16(const PoolGeom& g, const float* ddst, const int32_t* arg, float* dsrc,
                                                bool accumulate, int64_t lo, int64_t hi) {
    pool_blocked_backward_planes<16>(g, ddst, arg, dsrc, accumulate, lo, hi);
}

int blocked_lanes(const PoolGeom& g) {
    const int b = block_channels();
    EDDL_CHECK(g.id == 1 && g.od == 1 && g.kd == 1 && g.plain() && (b == 8 || b == 16) && g.c % b == 0,
               "blocked pooling needs 2-D, undilated, exclude-padding windows over whole blocks of channels");
    return b;
}

void pool_blocked(const PoolGeom& g, const float* src, float* dst, float* ws) {
    const int b = blocked_lanes(g);
    auto* arg = reinterpret_cast<int32_t*>(ws);
    const int64_t rows = int64_t(g.n) * (g.c / b) * g.oh;
    parallel_chunks(rows, [&](int64_t lo, int64_t hi) {
        if (b == 8) pool_blocked_rows_8(g, src, dst, arg, lo, hi);
        else pool_blocked_rows_16(g, src, dst, arg, lo, hi);
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(int64_t(g.ow) * b * g.kh * g.kw, 1)));
}

void pool_blocked_backward(const PoolGeom& g, const float* ddst, const float* ws, float* dsrc, bool accumulate) {
    const int b = blocked_lanes(g);
    const auto* arg = reinterpret_cast<const int32_t*>(ws);
    const int64_t planes = int64_t(g.n) * (g.c / b), plane = int64_t(g.ih) * g.iw * b;
    parallel_chunks(planes, [&](int64_t lo, int64_t hi) {
        if (b == 8) pool_blocked_backward_8(g, ddst, arg, dsrc, accumulate, lo, hi);
        else pool_blocked_backward_16(g, ddst, arg, dsrc, accumulate, lo, hi);
    }, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(plane, 1)));
}

}  // namespace

int64_t pool_workspace(const PoolGeom& g) {
    return g.kind == PoolKind::Max ? int64_t(g.n) * g.c * g.od * g.oh * g.ow : 0;
}

void pool(const PoolGeom& g, const float* src, float* dst, float* ws) {
    if (g.blocked) return pool_blocked(g, src, dst, ws);
    const int64_t in_plane = int64_t(g.id) * g.ih * g.iw, out_plane = int64_t(g.od) * g.oh * g.ow;
    // the workspace holds, per output, the volume offset of its maximum (int32 in float storage)
    auto* arg = reinterpret_cast<int32_t*>(ws);
    // The common 2x2 / stride 2 max pooling without padding: straight-line code per output.
    const bool fast2x2 = g.kind == PoolKind::Max && g.plain() && g.kd == 1 && g.id == 1 && g.kh == 2 && g.kw == 2 && g.sh == 2 &&
                         g.sw == 2 && g.pt == 0 && g.pl == 0 && 2 * g.oh <= g.ih && 2 * g.ow <= g.iw;
    for_planes(g, [&](int64_t p) {
        const float* s = src + p * in_plane;
        float* d = dst + p * out_plane;
        int32_t* a = g.kind == PoolKind::Max ? arg + p * out_plane : nullptr;
        if (fast2x2) {
            for (int oy = 0; oy < g.oh; ++oy) {
                const float* r0 = s + int64_t(2 * oy) * g.iw;
                const float* r1 = r0 + g.iw;
                max2x2_row(r0, r1, d + oy * g.ow, a + oy * g.ow, g.ow, 2 * oy * g.iw, g.iw);
            }
            return;
        }
        int64_t o = 0;
        for (int oz = 0; oz < g.od; ++oz)
            for (int oy = 0; oy < g.oh; ++oy)
                for (int ox = 0; ox < g.ow; ++ox, ++o) {
                    const Window w = window(g, oz, oy, ox);
                    if (g.kind == PoolKind::Max && (g.dd != 1 || g.dh != 1 || g.dw != 1)) {
                        a[o] = dilated_max(g, s, oz, oy, ox, d[o]);
                    } else if (g.kind == PoolKind::Max) {
                        float best = -std::numeric_limits<float>::infinity();
                        int32_t at = (w.z0 * g.ih + w.y0) * g.iw + w.x0;
                        for (int z = w.z0; z < w.z1; ++z)
                            for (int y = w.y0; y < w.y1; ++y)
                                for (int x = w.x0; x < w.x1; ++x) {
                                    // branch-free select: random data would mispredict a branch half the time
                                    const int32_t i = (z * g.ih + y) * g.iw + x;
                                    const float v = s[i];
                                    const bool gt = v > best;
                                    at = gt ? i : at;
                                    best = gt ? v : best;
                                }
                        d[o] = best;
                        a[o] = at;
                    } else {
                        float sum = 0;
                        for (int z = w.z0; z < w.z1; ++z)
                            for (int y = w.y0; y < w.y1; ++y)
                                for (int x = w.x0; x < w.x1; ++x) sum += s[(z * g.ih + y) * g.iw + x];
                        d[o] = sum / divisor(g, w, oz, oy, ox);
                    }
                }
    });
}

void pool_backward(const PoolGeom& g, const float* ddst, const float* ws, float* dsrc, bool accumulate) {
    if (g.blocked) return pool_blocked_backward(g, ddst, ws, dsrc, accumulate);
    const int64_t in_plane = int64_t(g.id) * g.ih * g.iw, out_plane = int64_t(g.od) * g.oh * g.ow;
    const auto* arg = reinterpret_cast<const int32_t*>(ws);
    for_planes(g, [&](int64_t p) {
        float* ds = dsrc + p * in_plane;
        const float* dd = ddst + p * out_plane;
        if (!accumulate) std::memset(ds, 0, size_t(in_plane) * sizeof(float));
        if (g.kind == PoolKind::Max) {
            const int32_t* a = arg + p * out_plane;
            for (int64_t o = 0; o < out_plane; ++o)
                if (a[o] >= 0) ds[a[o]] += dd[o];  // < 0: a dilated window with no tap inside
            return;
        }
        int64_t o = 0;
        for (int oz = 0; oz < g.od; ++oz)
            for (int oy = 0; oy < g.oh; ++oy)
                for (int ox = 0; ox < g.ow; ++ox, ++o) {
                    const Window w = window(g, oz, oy, ox);
                    const float v = dd[o] / divisor(g, w, oz, oy, ox);
                    for (int z = w.z0; z < w.z1; ++z)
                        for (int y = w.y0; y < w.y1; ++y)
                            for (int x = w.x0; x < w.x1; ++x) ds[(z * g.ih + y) * g.iw + x] += v;
                }
    });
}

}  // namespace eddl::cpu
