// gemm.cc — placeholder driver (naive); replaced by the blocked BLIS-style implementation.
#include "gemm.h"

namespace mb {

void sgemm_ref(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++) {
        float a = transA ? A[p * lda + i] : A[i * lda + p];
        float b = transB ? B[j * ldb + p] : B[p * ldb + j];
        s += (double)a * b;
      }
      float c = beta == 0.f ? 0.f : beta * C[i * ldc + j];
      C[i * ldc + j] = (float)(alpha * s) + c;
    }
}

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int) {
  sgemm_ref(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace mb
