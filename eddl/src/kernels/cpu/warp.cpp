// Per-sample affine resampling of {C, H, W} images (the data-augmentation layers): every output
// pixel reads the input at an affine function of its coordinates, bilinearly, with a border rule
// for positions outside; an optional box per sample is set to a constant (cutout).
#include <cmath>
#include <cstring>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {
namespace {

// Index of position i along an axis of n under the border rule; -1: the constant (or, for
// Original, the pixel at the output's own position).
inline int resolve(int i, int n, WarpBorder b) {
    if (i >= 0 && i < n) return i;
    switch (b) {
        case WarpBorder::Nearest: return i < 0 ? 0 : n - 1;
        case WarpBorder::Reflect: {  // ... 2 1 | 0 1 2 ... n-1 | n-2 ...
            if (n == 1) return 0;
            const int period = 2 * (n - 1);
            int m = i % period;
            if (m < 0) m += period;
            return m < n ? m : period - m;
        }
        case WarpBorder::Wrap: {
            int m = i % n;
            return m < 0 ? m + n : m;
        }
        default: return -1;
    }
}

struct Tap {
    int64_t index;  // into the plane; -1 = constant
    float weight;
};

// Up to 4 bilinear taps of output pixel (y, x) of sample s; returns how many.
inline int taps(const WarpGeom& g, const float* m, int y, int x, Tap* t) {
    const float sy = m[0] * y + m[1] * x + m[2], sx = m[3] * y + m[4] * x + m[5];
    const float fy = std::floor(sy), fx = std::floor(sx);
    const float wy = sy - fy, wx = sx - fx;
    const int y0 = int(fy), x0 = int(fx);
    int k = 0;
    for (int a = 0; a < 2; ++a) {
        const float w_y = a ? wy : 1 - wy;
        if (w_y == 0.0f) continue;
        for (int b = 0; b < 2; ++b) {
            const float w = w_y * (b ? wx : 1 - wx);
            if (w == 0.0f) continue;
            const int iy = resolve(y0 + a, g.ih, g.border), ix = resolve(x0 + b, g.iw, g.border);
            int64_t idx = iy < 0 || ix < 0 ? -1 : int64_t(iy) * g.iw + ix;
            if (idx < 0 && g.border == WarpBorder::Original && y < g.ih && x < g.iw) idx = int64_t(y) * g.iw + x;
            t[k++] = {idx, w};
        }
    }
    return k;
}

inline bool in_box(const int* box, int y, int x) { return y >= box[0] && y < box[1] && x >= box[2] && x < box[3]; }

}  // namespace

int warp_taps(const WarpGeom& g, const float* m, int y, int x, int64_t* index, float* weight) {
    Tap t[4];
    const int k = taps(g, m, y, x, t);
    for (int i = 0; i < k; ++i) {
        index[i] = t[i].index;
        weight[i] = t[i].weight;
    }
    return k;
}

void warp(const WarpGeom& g, const float* mats, const int* boxes, const float* src, float* dst) {
    const int64_t in_plane = int64_t(g.ih) * g.iw, out_plane = int64_t(g.oh) * g.ow;
    parallel_chunks(g.n * g.c, [&](int64_t lo, int64_t hi) {
        Tap t[4];
        for (int64_t p = lo; p < hi; ++p) {
            const int64_t s = p / g.c;
            const float* m = mats + 6 * s;
            const int* box = boxes + 4 * s;
            const float* in = src + p * in_plane;
            float* out = dst + p * out_plane;
            for (int y = 0; y < g.oh; ++y)
                for (int x = 0; x < g.ow; ++x) {
                    float v = 0;
                    if (in_box(box, y, x)) {
                        v = g.constant;
                    } else {
                        const int k = taps(g, m, y, x, t);
                        for (int i = 0; i < k; ++i) v += t[i].weight * (t[i].index < 0 ? g.constant : in[t[i].index]);
                    }
                    out[int64_t(y) * g.ow + x] = v;
                }
        }
    }, 1);
}

void warp_backward(const WarpGeom& g, const float* mats, const int* boxes, const float* ddst, float* dsrc,
                   bool accumulate) {
    const int64_t in_plane = int64_t(g.ih) * g.iw, out_plane = int64_t(g.oh) * g.ow;
    parallel_chunks(g.n * g.c, [&](int64_t lo, int64_t hi) {  // planes are disjoint: no write races
        Tap t[4];
        for (int64_t p = lo; p < hi; ++p) {
            const int64_t s = p / g.c;
            const float* m = mats + 6 * s;
            const int* box = boxes + 4 * s;
            float* din = dsrc + p * in_plane;
            const float* dout = ddst + p * out_plane;
            if (!accumulate) std::memset(din, 0, size_t(in_plane) * sizeof(float));
            for (int y = 0; y < g.oh; ++y)
                for (int x = 0; x < g.ow; ++x) {
                    if (in_box(box, y, x)) continue;
                    const float d = dout[int64_t(y) * g.ow + x];
                    const int k = taps(g, m, y, x, t);
                    for (int i = 0; i < k; ++i)
                        if (t[i].index >= 0) din[t[i].index] += t[i].weight * d;
                }
        }
    }, 1);
}

}  // namespace eddl::cpu
