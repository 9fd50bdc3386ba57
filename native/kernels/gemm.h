// gemm.h — single-precision GEMM, row-major, BLIS-style (packing, cache blocking, micro-kernel).
//
//   C[m, n] = alpha * op(A)[m, k] · op(B)[k, n] + beta * C[m, n]
//
// A is stored [m, k] with leading dimension lda (transA false) or [k, m] (transA true); likewise B is
// [k, n] or [n, k] with ldb; C is [m, n] with ldc. beta == 0 overwrites C (NaN in C is ignored).
// nthreads: threads for this call's parallel loops (1 when called from inside a parallel region;
// 0 means num_threads()). Scratch (packing buffers) belongs to the call, never to a static.
#pragma once

#include <cstdint>

namespace mb {

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int nthreads = 0);

// Naive triple loop with double accumulation: the test oracle.
void sgemm_ref(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace mb
