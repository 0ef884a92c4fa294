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
            // threads). So the first 4 columns go alone, and the rest start 16 bytes off (faster
            // than copying B off: 72 against 49 GFLOP/s).
            if (mm.aligned_b_slow && reinterpret_cast<uintptr_t>(B) % 64 == 0) {
                gemm(ta, tb, m, 4, k, alpha, A, lda, B, ldb, beta, C, ldc);
                gemm(ta, tb, m, n - 4, k, alpha, A, lda, B + 4, ldb, beta, C + 4, ldc);
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
