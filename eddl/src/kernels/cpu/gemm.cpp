// Matrix products through oneDNN, threaded with the same OpenMP pool as our own loops.
// The matmul primitive (brgemm kernels picked at run time for the CPU's ISA) is ~25% faster than
// dnnl_sgemm on the thin shapes of training (batch x features); primitives are created once per
// shape and reused. Scalings other than alpha = 1, beta in {0, 1} go to dnnl_sgemm.
#include <dnnl.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/cpu/cpu_kernels.h"
#include "kernels/cpu/onednn.h"

namespace eddl::cpu {
namespace {

// ta tb m n k lda ldb ldc acc threads: oneDNN sizes a primitive's work split for the thread
// count at creation, so a change of computing service gets its own primitives.
using Key = std::tuple<bool, bool, int, int, int, int, int, int, bool, int>;

struct Matmul {
    dnnl::matmul prim;
    dnnl::memory::desc a, b, c;
    bool aligned_b_slow = false;  // see gemm()
};

const Matmul& primitive(const Key& key) {
    return cached(key, [&] {
        const auto [ta, tb, M, N, K, lda, ldb, ldc, acc, threads] = key;
        using dims = dnnl::memory::dims;
        Matmul mm;
        // op(A) is M x K: stored row-major with leading dimension lda, or transposed
        mm.a = dnnl::memory::desc({M, K}, f32, ta ? dims{1, lda} : dims{lda, 1});
        mm.b = dnnl::memory::desc({K, N}, f32, tb ? dims{1, ldb} : dims{ldb, 1});
        mm.c = dnnl::memory::desc({M, N}, f32, dims{ldc, 1});
        dnnl::primitive_attr attr;
        if (acc) {
            dnnl::post_ops po;
            po.append_sum(1.0f);  // C += A B
            attr.set_post_ops(po);
        }
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(mm.a, mm.b, mm.c), attr, onednn_engine());
        mm.prim = dnnl::matmul(pd);
        mm.aligned_b_slow = !tb && N >= 64 && int64_t(K) * ldb <= (int64_t(1) << 22) &&
                            std::string(pd.impl_info_str()).find("gemm:jit") != std::string::npos;
        return mm;
    });
}

// C[i][0..4) (+)= sum_p op(A)[i][p] B[p][0..4) for rows [lo, hi): the 4 columns gemm() splits
// off. oneDNN spent ~70 us on such a sliver of a Dense layer (11 GFLOP/s, 3% of an MLP epoch);
// these loops keep 16 lanes per column in registers. Bt is B's 4 columns transposed (4 x k).
// Each row's sums run in a fixed order on one thread: results do not depend on the thread count.
constexpr int kCols = 4, kLanes = 16;

// Each column's 16 lanes are a separate array so that GCC vectorizes along the lanes (with a
// [4][16] array it vectorized across the 4 columns, with shuffles).
EDDL_MULTIVERSION void sliver_rows(int64_t lo, int64_t hi, int k, const float* A, int lda, const float* Bt,
                                   bool acc, float* C, int ldc) {
    const float *b0 = Bt, *b1 = Bt + k, *b2 = Bt + 2 * int64_t(k), *b3 = Bt + 3 * int64_t(k);
    for (int64_t i = lo; i < hi; ++i) {
        const float* a = A + i * lda;
        float s0[kLanes] = {}, s1[kLanes] = {}, s2[kLanes] = {}, s3[kLanes] = {};
        int p = 0;
        for (; p + kLanes <= k; p += kLanes)
            for (int l = 0; l < kLanes; ++l) {
                const float x = a[p + l];
                s0[l] += x * b0[p + l];
                s1[l] += x * b1[p + l];
                s2[l] += x * b2[p + l];
                s3[l] += x * b3[p + l];
            }
        for (; p < k; ++p) {
            s0[0] += a[p] * b0[p];
            s1[0] += a[p] * b1[p];
            s2[0] += a[p] * b2[p];
            s3[0] += a[p] * b3[p];
        }
        float t[kCols] = {};
        for (int l = 0; l < kLanes; ++l) {
            t[0] += s0[l];
            t[1] += s1[l];
            t[2] += s2[l];
            t[3] += s3[l];
        }
        for (int c = 0; c < kCols; ++c) C[i * ldc + c] = acc ? C[i * ldc + c] + t[c] : t[c];
    }
}

// The same with A transposed (op(A)[i][p] = A[p][i]): lanes run along i, 16 rows at a time
// (w < 16 only for the last block).
template <bool Full>
[[gnu::always_inline]] inline void sliver_block_ta(int w, int k, const float* A, int lda, const float* B, int ldb,
                                                   bool acc, float* C, int ldc) {
    float s0[kLanes] = {}, s1[kLanes] = {}, s2[kLanes] = {}, s3[kLanes] = {};
    const int n = Full ? kLanes : w;
    for (int p = 0; p < k; ++p) {
        const float* a = A + int64_t(p) * lda;
        const float* b = B + int64_t(p) * ldb;
        const float c0 = b[0], c1 = b[1], c2 = b[2], c3 = b[3];
        for (int l = 0; l < n; ++l) {
            s0[l] += a[l] * c0;
            s1[l] += a[l] * c1;
            s2[l] += a[l] * c2;
            s3[l] += a[l] * c3;
        }
    }
    for (int l = 0; l < n; ++l) {
        float* out = C + int64_t(l) * ldc;
        const float t[kCols] = {s0[l], s1[l], s2[l], s3[l]};
        for (int c = 0; c < kCols; ++c) out[c] = acc ? out[c] + t[c] : t[c];
    }
}

EDDL_MULTIVERSION void sliver_rows_ta(int64_t lo, int64_t hi, int k, const float* A, int lda, const float* B,
                                      int ldb, bool acc, float* C, int ldc) {
    for (int64_t i0 = lo; i0 < hi; i0 += kLanes) {
        const int w = int(std::min<int64_t>(kLanes, hi - i0));
        if (w == kLanes)
            sliver_block_ta<true>(w, k, A + i0, lda, B, ldb, acc, C + i0 * ldc, ldc);
        else
            sliver_block_ta<false>(w, k, A + i0, lda, B, ldb, acc, C + i0 * ldc, ldc);
    }
}

void gemm_sliver(bool ta, int m, int k, const float* A, int lda, const float* B, int ldb, bool acc, float* C,
                 int ldc) {
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max(k, 1));
    if (ta) {
        // whole 16-row blocks per thread
        const int64_t blocks = (m + kLanes - 1) / kLanes;
        parallel_chunks(
            blocks,
            [&](int64_t lo, int64_t hi) {
                sliver_rows_ta(lo * kLanes, std::min<int64_t>(m, hi * kLanes), k, A, lda, B, ldb, acc, C, ldc);
            },
            std::max<int64_t>(1, grain / kLanes));
        return;
    }
    std::vector<float> Bt(size_t(kCols) * k);
    for (int p = 0; p < k; ++p)
        for (int c = 0; c < kCols; ++c) Bt[size_t(c) * k + p] = B[int64_t(p) * ldb + c];
    parallel_chunks(m, [&](int64_t lo, int64_t hi) { sliver_rows(lo, hi, k, A, lda, Bt.data(), acc, C, ldc); },
                    grain);
}

}  // namespace

void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
    if (m == 0 || n == 0) return;
    try {
        if (alpha == 1.0f && (beta == 0.0f || beta == 1.0f) && k > 0) {
            const Matmul& mm = primitive(Key{ta, tb, m, n, k, lda, ldb, ldc, beta == 1.0f, omp_get_max_threads()});
            // oneDNN 2.6's AVX2 sgemm (gemm:jit; AVX-512 gets brgemm) runs a non-transposed B that
            // is 64-byte aligned, as all our tensors are, at about half speed: a Dense forward
            // 100x1024x1024 ran 44 GFLOP/s against 80 with B 16 bytes off (75 against 127 on 2
            // threads). So the first 4 columns go to gemm_sliver, and the rest start 16 bytes off
            // (faster than copying B off: 72 against 49 GFLOP/s).
            if (mm.aligned_b_slow && reinterpret_cast<uintptr_t>(B) % 64 == 0) {
                gemm_sliver(ta, m, k, A, lda, B, ldb, beta == 1.0f, C, ldc);
                gemm(ta, tb, m, n - kCols, k, alpha, A, lda, B + kCols, ldb, beta, C + kCols, ldc);
                return;
            }
            dnnl::memory ma(mm.a, onednn_engine(), const_cast<float*>(A)), mb(mm.b, onednn_engine(), const_cast<float*>(B)),
                mc(mm.c, onednn_engine(), C);
            dnnl::stream& s = onednn_stream();
            mm.prim.execute(s, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}});
            s.wait();
            return;
        }
        const dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
        EDDL_CHECK(st == dnnl_success, "status " << int(st));
    } catch (const dnnl::error& e) {
        EDDL_FAIL("gemm " << m << "x" << n << "x" << k << " failed in oneDNN: " << e.what());
    } catch (const Error& e) {
        EDDL_FAIL("gemm " << m << "x" << n << "x" << k << " failed in oneDNN: " << e.what());
    }
}

}  // namespace eddl::cpu
