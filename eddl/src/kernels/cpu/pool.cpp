// Max and average pooling on NCHW and NCDHW (1-D is 2-D with H = 1), one OpenMP task per
// (image, channel) plane or volume.
// Native rather than oneDNN on NCHW: there oneDNN's pooling ran ~10x slower than these loops
// (which are memory-bound). Blocked activations go to oneDNN's JIT pooling, the fast
// path on that layout, with primitives created once per geometry.
#include <algorithm>
#include <cstring>
#include <limits>

#include <map>
#include <mutex>

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

// ---- blocked (nChw16c or nChw8c, see block_channels): oneDNN ----

struct PoolPrims {
    memory::desc src, dst;
    dnnl::pooling_forward::primitive_desc fpd;
    dnnl::pooling_backward::primitive_desc bpd;
    dnnl::pooling_forward fwd;
    dnnl::pooling_backward bwd;
};

const PoolPrims& pool_prims(const PoolGeom& g) {
    return cached(g, [&] {
        EDDL_CHECK(g.id == 1 && g.od == 1 && g.kd == 1 && g.plain() && block_channels() &&
                       g.c % block_channels() == 0,
                   "blocked pooling needs 2-D, undilated, exclude-padding windows over whole blocks of channels");
        PoolPrims p;
        p.src = memory::desc({g.n, g.c, g.ih, g.iw}, f32, blocked_tag());
        p.dst = memory::desc({g.n, g.c, g.oh, g.ow}, f32, blocked_tag());
        // exclude-padding averages divide by the window clipped to the input, as the loops above do
        const auto algo = g.kind == PoolKind::Max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
        const memory::dims st{g.sh, g.sw}, k{g.kh, g.kw}, pl{g.pt, g.pl}, pr{g.pb, g.pr};
        auto& eng = onednn_engine();
        p.fpd = dnnl::pooling_forward::primitive_desc(
            dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, algo, p.src, p.dst, st, k, pl, pr), eng);
        p.bpd = dnnl::pooling_backward::primitive_desc(dnnl::pooling_backward::desc(algo, p.src, p.dst, st, k, pl, pr), eng,
                                                       p.fpd);
        p.fwd = dnnl::pooling_forward(p.fpd);
        p.bwd = dnnl::pooling_backward(p.bpd);
        return p;
    });
}

int64_t pool_blocked_workspace(const PoolGeom& g) {
    int64_t bytes = 0;
    onednn_guarded("pooling", g.n, g.c, g.ih, g.iw, [&] { bytes = int64_t(pool_prims(g).fpd.workspace_desc().get_size()); });
    return (bytes + int64_t(sizeof(float)) - 1) / int64_t(sizeof(float));
}

void pool_blocked(const PoolGeom& g, const float* src, float* dst, float* ws) {
    onednn_guarded("pooling", g.n, g.c, g.ih, g.iw, [&] {
        const PoolPrims& p = pool_prims(g);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, onednn_mem(p.src, src)}, {DNNL_ARG_DST, onednn_mem(p.dst, dst)}};
        if (g.kind == PoolKind::Max) args.insert({DNNL_ARG_WORKSPACE, onednn_mem(p.fpd.workspace_desc(), ws)});
        p.fwd.execute(onednn_stream(), args);
        onednn_stream().wait();
    });
}

void pool_blocked_backward(const PoolGeom& g, const float* ddst, const float* ws, float* dsrc, bool accumulate) {
    onednn_guarded("pooling backward", g.n, g.c, g.ih, g.iw, [&] {
        const PoolPrims& p = pool_prims(g);
        thread_local std::vector<float> tmp;
        const int64_t n = int64_t(g.n) * g.c * g.ih * g.iw;
        float* out = accumulate ? grown(tmp, n) : dsrc;
        std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, onednn_mem(p.dst, ddst)}, {DNNL_ARG_DIFF_SRC, onednn_mem(p.src, out)}};
        if (g.kind == PoolKind::Max) args.insert({DNNL_ARG_WORKSPACE, onednn_mem(p.fpd.workspace_desc(), ws)});
        p.bwd.execute(onednn_stream(), args);
        onednn_stream().wait();
        if (accumulate) axpby(1.0f, out, 1.0f, dsrc, n);
    });
}

}  // namespace

int64_t pool_workspace(const PoolGeom& g) {
    if (g.blocked) return pool_blocked_workspace(g);
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
