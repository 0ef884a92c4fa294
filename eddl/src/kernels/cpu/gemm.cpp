// Matrix products through the OpenMP build of OpenBLAS, which shares our thread pool.
#include <cblas.h>

#include "kernels/cpu/cpu_kernels.h"

namespace eddl::cpu {

void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* A, int lda, const float* B, int ldb,
          float beta, float* C, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, A,
                lda, B, ldb, beta, C, ldc);
}

}  // namespace eddl::cpu
