// Winograd F(2x2, 3x3) convolution over channel-blocked activations (inference, and training's
// forward and backward-data products; its dual F(3x3, 2x2) for the weight gradient), for CPUs on which oneDNN 2.6 has no f32 Winograd kernel
// (all but AVX-512: its direct kernels already run VGG-16's 3x3 layers at the machine's FMA peak
// on AVX2, so only fewer multiplications go faster).
//
// Each 2x2 output tile is A^T [ sum over input channels of (G k G^T) . (B^T d B) ] A, with d the
// tile's 4x4 input patch and k a 3x3 filter: 16 products per tile and channel pair instead of 36.
// Summed over the input channels, they become 16 matrix products M[xi] = V[xi] U[xi], tiles x ic
// times ic x oc (sgemm), between transforms (B^T d B, A^T m A) on vectors of a channel block.
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {
namespace {

// U's rows are oc + kPad floats and U starts kPad floats into its buffer: oneDNN's AVX2 sgemm
// reads a 64-byte aligned B at about half speed (see gemm.cpp).
constexpr int kPad = 4;

int ldu(const ConvGeom& g) { return g.oc + kPad; }

template <int B>
struct Lanes {
    // unaligned access; may alias the float buffers it is read from and written to (as __m256 does)
    typedef float v __attribute__((vector_size(B * sizeof(float)), aligned(sizeof(float)), may_alias));
};

// Where tile t (numbered over images, then rows, then columns of tiles) starts.
struct Tile {
    int n, y, x;  // image, top-left output row and column
};
inline Tile tile(int t, int th, int tw) { return {t / (th * tw), 2 * (t / tw % th), 2 * (t % tw)}; }

// V[xi][t - base][c] for tiles [t0, t1) of a chunk of n tiles starting at `base`.
template <int B>
[[gnu::always_inline]] inline void input_transform(const ConvGeom& g, const float* src, int t0, int t1, int base, int n,
                                                   float* V) {
    using v = typename Lanes<B>::v;
    const int th = (g.oh + 1) / 2, tw = (g.ow + 1) / 2, cb = g.ic / B;
    const size_t xi = size_t(n) * g.ic, plane = size_t(g.ih) * g.iw * B;
    for (int t = t0; t < t1; ++t) {
        const Tile tl = tile(t, th, tw);
        const int y0 = tl.y - g.pt, x0 = tl.x - g.pl;
        const bool inside = y0 >= 0 && y0 + 4 <= g.ih && x0 >= 0 && x0 + 4 <= g.iw;
        const float* image = src + size_t(tl.n) * cb * plane;
        for (int c = 0; c < cb; ++c) {
            const float* s = image + c * plane;
            v d[4][4];
            for (int r = 0; r < 4; ++r)
                for (int q = 0; q < 4; ++q) {
                    const int y = y0 + r, x = x0 + q;
                    d[r][q] = inside || (y >= 0 && y < g.ih && x >= 0 && x < g.iw)
                                  ? *reinterpret_cast<const v*>(s + (size_t(y) * g.iw + x) * B)
                                  : v{};
                }
            v e[4][4];  // B^T d
            for (int q = 0; q < 4; ++q) {
                e[0][q] = d[0][q] - d[2][q];
                e[1][q] = d[1][q] + d[2][q];
                e[2][q] = d[2][q] - d[1][q];
                e[3][q] = d[1][q] - d[3][q];
            }
            float* out = V + size_t(t - base) * g.ic + c * B;  // (B^T d) B
            for (int r = 0; r < 4; ++r) {
                *reinterpret_cast<v*>(out + (r * 4 + 0) * xi) = e[r][0] - e[r][2];
                *reinterpret_cast<v*>(out + (r * 4 + 1) * xi) = e[r][1] + e[r][2];
                *reinterpret_cast<v*>(out + (r * 4 + 2) * xi) = e[r][2] - e[r][1];
                *reinterpret_cast<v*>(out + (r * 4 + 3) * xi) = e[r][1] - e[r][3];
            }
        }
    }
}

// dst tiles [t0, t1) from M[xi][t - base][o]: A^T m A + bias, then ReLU; tiles past the
// output's last row or column write only what is inside.
template <int B>
[[gnu::always_inline]] inline void output_transform(const ConvGeom& g, const float* M, int t0, int t1, int base, int n,
                                                    const float* bias, bool relu, float* dst) {
    using v = typename Lanes<B>::v;
    const int th = (g.oh + 1) / 2, tw = (g.ow + 1) / 2, ob = g.oc / B;
    const size_t xi = size_t(n) * g.oc, plane = size_t(g.oh) * g.ow * B;
    for (int t = t0; t < t1; ++t) {
        const Tile tl = tile(t, th, tw);
        float* image = dst + size_t(tl.n) * ob * plane;
        for (int c = 0; c < ob; ++c) {
            const float* m = M + size_t(t - base) * g.oc + c * B;
            v mm[16];
            for (int k = 0; k < 16; ++k) mm[k] = *reinterpret_cast<const v*>(m + k * xi);
            v s[2][4];  // A^T m
            for (int q = 0; q < 4; ++q) {
                s[0][q] = mm[q] + mm[4 + q] + mm[8 + q];
                s[1][q] = mm[4 + q] - mm[8 + q] - mm[12 + q];
            }
            const v bv = bias ? *reinterpret_cast<const v*>(bias + c * B) : v{};
            float* d = image + c * plane;
            for (int r = 0; r < 2 && tl.y + r < g.oh; ++r) {
                const v o[2] = {s[r][0] + s[r][1] + s[r][2] + bv, s[r][1] - s[r][2] - s[r][3] + bv};
                for (int q = 0; q < 2 && tl.x + q < g.ow; ++q)
                    *reinterpret_cast<v*>(d + (size_t(tl.y + r) * g.ow + tl.x + q) * B) = relu ? (o[q] > 0 ? o[q] : v{}) : o[q];
            }
        }
    }
}

// Compiled for each ISA (the vectors become AVX-512, AVX2 or SSE registers).
EDDL_MULTIVERSION void input_transform_8(const ConvGeom& g, const float* src, int t0, int t1, int base, int n, float* V) {
    input_transform<8>(g, src, t0, t1, base, n, V);
}
EDDL_MULTIVERSION void input_transform_16(const ConvGeom& g, const float* src, int t0, int t1, int base, int n, float* V) {
    input_transform<16>(g, src, t0, t1, base, n, V);
}
EDDL_MULTIVERSION void output_transform_8(const ConvGeom& g, const float* M, int t0, int t1, int base, int n,
                                          const float* bias, bool relu, float* dst) {
    output_transform<8>(g, M, t0, t1, base, n, bias, relu, dst);
}
EDDL_MULTIVERSION void output_transform_16(const ConvGeom& g, const float* M, int t0, int t1, int base, int n,
                                           const float* bias, bool relu, float* dst) {
    output_transform<16>(g, M, t0, t1, base, n, bias, relu, dst);
}

// E[xi][t - base][o] = A e A^T for tiles [t0, t1): e is the tile's 2x2 block of the output's
// gradient (zero past the last row or column), A = (A^T)^T the 4x2 output transform's matrix.
template <int B>
[[gnu::always_inline]] inline void gradient_transform(const ConvGeom& g, const float* ddst, int t0, int t1, int base, int n,
                                                      float* E) {
    using v = typename Lanes<B>::v;
    const int th = (g.oh + 1) / 2, tw = (g.ow + 1) / 2, ob = g.oc / B;
    const size_t xi = size_t(n) * g.oc, plane = size_t(g.oh) * g.ow * B;
    for (int t = t0; t < t1; ++t) {
        const Tile tl = tile(t, th, tw);
        const float* image = ddst + size_t(tl.n) * ob * plane;
        for (int c = 0; c < ob; ++c) {
            const float* s = image + c * plane;
            v e[2][2];
            for (int r = 0; r < 2; ++r)
                for (int q = 0; q < 2; ++q)
                    e[r][q] = tl.y + r < g.oh && tl.x + q < g.ow
                                  ? *reinterpret_cast<const v*>(s + (size_t(tl.y + r) * g.ow + tl.x + q) * B)
                                  : v{};
            v a[4][2];  // A e
            for (int q = 0; q < 2; ++q) {
                a[0][q] = e[0][q];
                a[1][q] = e[0][q] + e[1][q];
                a[2][q] = e[0][q] - e[1][q];
                a[3][q] = -e[1][q];
            }
            float* out = E + size_t(t - base) * g.oc + c * B;  // (A e) A^T
            for (int r = 0; r < 4; ++r) {
                *reinterpret_cast<v*>(out + (r * 4 + 0) * xi) = a[r][0];
                *reinterpret_cast<v*>(out + (r * 4 + 1) * xi) = a[r][0] + a[r][1];
                *reinterpret_cast<v*>(out + (r * 4 + 2) * xi) = a[r][0] - a[r][1];
                *reinterpret_cast<v*>(out + (r * 4 + 3) * xi) = -a[r][1];
            }
        }
    }
}

EDDL_MULTIVERSION void gradient_transform_8(const ConvGeom& g, const float* ddst, int t0, int t1, int base, int n,
                                            float* E) {
    gradient_transform<8>(g, ddst, t0, t1, base, n, E);
}
EDDL_MULTIVERSION void gradient_transform_16(const ConvGeom& g, const float* ddst, int t0, int t1, int base, int n,
                                             float* E) {
    gradient_transform<16>(g, ddst, t0, t1, base, n, E);
}

}  // namespace

bool winograd_f23_fits(const ConvGeom& g, int block) {
    return (block == 8 || block == 16) && !g.volumetric() && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 &&
           g.dh == 1 && g.dw == 1 && g.groups == 1 && g.src_blocked && g.dst_blocked && g.ic % block == 0 &&
           g.oc % block == 0 && g.pt >= 0 && g.pb >= 0 && g.pl >= 0 && g.pr >= 0 && g.oh == g.ih + g.pt + g.pb - 2 &&
           g.ow == g.iw + g.pl + g.pr - 2;
}

int64_t winograd_f23_weights_size(const ConvGeom& g) { return int64_t(16) * g.ic * ldu(g) + kPad; }

void winograd_f23_weights(const ConvGeom& g, const float* w, const float* scale, float* buf, bool transposed) {
    float* U = buf + kPad;
    const int L = ldu(g);
    // one row i of every U[xi] per task: its 16 output runs are contiguous (training transforms
    // the weights at every step); filter (i, o) is w[o][i], or for transposed w[i][o] rotated
    parallel_chunks(g.ic, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i)
            for (int o = 0; o < g.oc; ++o) {
                const float* f = transposed ? w + (i * g.oc + o) * 9 : w + (int64_t(o) * g.ic + i) * 9;
                float k[9];
                for (int t = 0; t < 9; ++t) k[t] = transposed ? f[8 - t] : f[t];
                const float s = scale ? scale[o] : 1.0f;
                float gk[4][3];  // G k
                for (int c = 0; c < 3; ++c) {
                    gk[0][c] = k[c];
                    gk[1][c] = 0.5f * (k[c] + k[3 + c] + k[6 + c]);
                    gk[2][c] = 0.5f * (k[c] - k[3 + c] + k[6 + c]);
                    gk[3][c] = k[6 + c];
                }
                for (int r = 0; r < 4; ++r) {  // (G k) G^T
                    const float u[4] = {gk[r][0], 0.5f * (gk[r][0] + gk[r][1] + gk[r][2]),
                                        0.5f * (gk[r][0] - gk[r][1] + gk[r][2]), gk[r][2]};
                    for (int c = 0; c < 4; ++c) U[(size_t(r * 4 + c) * g.ic + i) * L + o] = s * u[c];
                }
            }
    }, 1);
}

namespace {

// The T tiles of g in chunks, in turn, each in three phases across the threads: transform(t0, t1,
// base, n) on this thread's share [t0, t1) of the chunk [base, base + n); the 16 products
// product(x, base, n), one thread each (sgemm inside a parallel region runs on its caller's
// thread, and x goes to the same thread in every chunk), so that no sum depends on the thread
// count; then finish(t0, t1, base, n) on the same share.
template <class Transform, class Product, class Finish>
void by_chunks(const ConvGeom& g, int chunk, const char* what, Transform transform, Product product, Finish finish) {
    const int T = g.n * ((g.oh + 1) / 2) * ((g.ow + 1) / 2);
    int failed = 0;
#pragma omp parallel
    for (int base = 0; base < T; base += chunk) {
        const int n = std::min(T - base, chunk), nt = omp_get_num_threads(), me = omp_get_thread_num();
        const int t0 = base + int(int64_t(n) * me / nt), t1 = base + int(int64_t(n) * (me + 1) / nt);
        transform(t0, t1, base, n);
#pragma omp barrier
#pragma omp for schedule(static)
        for (int x = 0; x < 16; ++x)
            if (product(x, base, n) != dnnl_success) {
#pragma omp atomic write
                failed = 1;
            }
        finish(t0, t1, base, n);
#pragma omp barrier
    }
    EDDL_CHECK(!failed, what << " " << g.n << "x" << g.ic << "x" << g.ih << "x" << g.iw << " -> " << g.oc
                             << " filters 3x3: oneDNN's sgemm failed");
}

}  // namespace

void winograd_f23(const ConvGeom& g, int block, const float* src, const float* weights, const float* bias, bool relu,
                  float* dst, float* V, float* M, int chunk) {
    const float* U = weights + kPad;
    by_chunks(
        g, chunk, "Winograd convolution",
        [&](int t0, int t1, int base, int n) {
            if (block == 8) input_transform_8(g, src, t0, t1, base, n, V);
            else input_transform_16(g, src, t0, t1, base, n, V);
        },
        [&](int x, int, int n) {
            return dnnl_sgemm('N', 'N', n, g.oc, g.ic, 1.0f, V + size_t(x) * n * g.ic, g.ic,
                              U + size_t(x) * g.ic * ldu(g), ldu(g), 0.0f, M + size_t(x) * n * g.oc, g.oc);
        },
        [&](int t0, int t1, int base, int n) {
            if (block == 8) output_transform_8(g, M, t0, t1, base, n, bias, relu, dst);
            else output_transform_16(g, M, t0, t1, base, n, bias, relu, dst);
        });
}

void winograd_f23_weight_grad(const ConvGeom& g, int block, const float* src, const float* ddst, float* dw,
                              bool accumulate, float* V, float* E, float* S, int chunk) {
    // The dual algorithm, F(3x3, 2x2): a tile adds G^T [(B^T d B) . (A e A^T)] G to each filter's
    // gradient; summed over tiles first, 16 products S[xi] = E[xi]^T V[xi] (oc x ic, over the
    // tiles), each accumulated by one thread over the chunks in order, then transformed once.
    by_chunks(
        g, chunk, "Winograd weight gradient",
        [&](int t0, int t1, int base, int n) {
            if (block == 8) {
                input_transform_8(g, src, t0, t1, base, n, V);
                gradient_transform_8(g, ddst, t0, t1, base, n, E);
            } else {
                input_transform_16(g, src, t0, t1, base, n, V);
                gradient_transform_16(g, ddst, t0, t1, base, n, E);
            }
        },
        [&](int x, int base, int n) {
            return dnnl_sgemm('T', 'N', g.oc, g.ic, n, 1.0f, E + size_t(x) * n * g.oc, g.oc, V + size_t(x) * n * g.ic,
                              g.ic, base == 0 ? 0.0f : 1.0f, S + size_t(x) * g.oc * g.ic, g.ic);
        },
        [](int, int, int, int) {});
    const size_t per = size_t(g.oc) * g.ic;
    parallel_chunks(g.oc, [&](int64_t lo, int64_t hi) {
        for (int64_t o = lo; o < hi; ++o)
            for (int i = 0; i < g.ic; ++i) {
                float m[4][4];
                for (int x = 0; x < 16; ++x) m[x / 4][x % 4] = S[x * per + size_t(o) * g.ic + i];
                float r[3][4];  // G^T m, G^T = [[1, .5, .5, 0], [0, .5, -.5, 0], [0, .5, .5, 1]]
                for (int q = 0; q < 4; ++q) {
                    r[0][q] = m[0][q] + 0.5f * (m[1][q] + m[2][q]);
                    r[1][q] = 0.5f * (m[1][q] - m[2][q]);
                    r[2][q] = 0.5f * (m[1][q] + m[2][q]) + m[3][q];
                }
                float* d = dw + (size_t(o) * g.ic + i) * 9;  // (G^T m) G
                for (int a = 0; a < 3; ++a) {
                    const float k[3] = {r[a][0] + 0.5f * (r[a][1] + r[a][2]), 0.5f * (r[a][1] - r[a][2]),
                                        0.5f * (r[a][1] + r[a][2]) + r[a][3]};
                    for (int b = 0; b < 3; ++b) d[a * 3 + b] = accumulate ? d[a * 3 + b] + k[b] : k[b];
                }
            }
    }, 1);
}

// V and M together up to ~4 MB (they stay in cache between the phases), and at least 16 rows per sgemm.
int winograd_f23_chunk(const ConvGeom& g) { return std::clamp(65536 / (g.ic + g.oc), 16, 512); }

}  // namespace eddl::cpu
