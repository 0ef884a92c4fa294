// Matrix products through oneDNN's sgemm: JIT kernels picked at run time for the CPU's ISA
// (AVX-512 where present), threaded with the same OpenMP pool as our own loops.
#include <dnnl.h>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {

void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
    if (m == 0 || n == 0) return;
    const dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    EDDL_CHECK(st == dnnl_success, "gemm " << m << "x" << n << "x" << k << " failed in oneDNN (status " << int(st) << ")");
}

}  // namespace eddl::cpu
