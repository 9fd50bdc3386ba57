// gemm_avx2.cc — the AVX2/FMA sgemm micro-kernel (compiled with -mavx2 -mfma only).
//
// C[6, 16] = Ap[kc, 6]ᵀ · Bp[kc, 16] + beta * C: each step of k loads one row of the B micro-panel
// (two ymm), broadcasts the six A values of that step, and issues 12 FMAs into 12 accumulators
// (rows 0..5 × column halves 0..1), which covers the FMA latency with independent chains.
#include <immintrin.h>

#include "gemm.h"
#include "gemm_config.h"

namespace mb {

static_assert(gemm_config::MR == 6 && gemm_config::NR == 16, "the AVX2 micro-kernel is 6 x 16");

void sgemm_ukernel_avx2_6x16(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, float beta) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

  for (int r = 0; r < 6; r++) _mm_prefetch((const char*)(C + r * ldc), _MM_HINT_T0);
  for (int r = 0; r < 6; r++) _mm_prefetch((const char*)(C + r * ldc + 15), _MM_HINT_T0);

#define MB_STEP(s)                                                    \
  {                                                                   \
    const __m256 b0 = _mm256_load_ps(Bp + 16 * (s));                  \
    const __m256 b1 = _mm256_load_ps(Bp + 16 * (s) + 8);              \
    __m256 a = _mm256_broadcast_ss(Ap + 6 * (s) + 0);                 \
    c00 = _mm256_fmadd_ps(a, b0, c00);                                \
    c01 = _mm256_fmadd_ps(a, b1, c01);                                \
    a = _mm256_broadcast_ss(Ap + 6 * (s) + 1);                        \
    c10 = _mm256_fmadd_ps(a, b0, c10);                                \
    c11 = _mm256_fmadd_ps(a, b1, c11);                                \
    a = _mm256_broadcast_ss(Ap + 6 * (s) + 2);                        \
    c20 = _mm256_fmadd_ps(a, b0, c20);                                \
    c21 = _mm256_fmadd_ps(a, b1, c21);                                \
    a = _mm256_broadcast_ss(Ap + 6 * (s) + 3);                        \
    c30 = _mm256_fmadd_ps(a, b0, c30);                                \
    c31 = _mm256_fmadd_ps(a, b1, c31);                                \
    a = _mm256_broadcast_ss(Ap + 6 * (s) + 4);                        \
    c40 = _mm256_fmadd_ps(a, b0, c40);                                \
    c41 = _mm256_fmadd_ps(a, b1, c41);                                \
    a = _mm256_broadcast_ss(Ap + 6 * (s) + 5);                        \
    c50 = _mm256_fmadd_ps(a, b0, c50);                                \
    c51 = _mm256_fmadd_ps(a, b1, c51);                                \
  }

  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    MB_STEP(0) MB_STEP(1) MB_STEP(2) MB_STEP(3)
    Ap += 24;
    Bp += 64;
  }
  for (; p < kc; p++) {
    MB_STEP(0)
    Ap += 6;
    Bp += 16;
  }
#undef MB_STEP

  float* c0 = C;
  float* c1 = C + ldc;
  float* c2 = C + 2 * ldc;
  float* c3 = C + 3 * ldc;
  float* c4 = C + 4 * ldc;
  float* c5 = C + 5 * ldc;
  if (beta == 0.f) {
    // C is not read: NaN or garbage in it does not propagate.
  } else if (beta == 1.f) {
    c00 = _mm256_add_ps(c00, _mm256_loadu_ps(c0)); c01 = _mm256_add_ps(c01, _mm256_loadu_ps(c0 + 8));
    c10 = _mm256_add_ps(c10, _mm256_loadu_ps(c1)); c11 = _mm256_add_ps(c11, _mm256_loadu_ps(c1 + 8));
    c20 = _mm256_add_ps(c20, _mm256_loadu_ps(c2)); c21 = _mm256_add_ps(c21, _mm256_loadu_ps(c2 + 8));
    c30 = _mm256_add_ps(c30, _mm256_loadu_ps(c3)); c31 = _mm256_add_ps(c31, _mm256_loadu_ps(c3 + 8));
    c40 = _mm256_add_ps(c40, _mm256_loadu_ps(c4)); c41 = _mm256_add_ps(c41, _mm256_loadu_ps(c4 + 8));
    c50 = _mm256_add_ps(c50, _mm256_loadu_ps(c5)); c51 = _mm256_add_ps(c51, _mm256_loadu_ps(c5 + 8));
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
    c00 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c0), c00); c01 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c0 + 8), c01);
    c10 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c1), c10); c11 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c1 + 8), c11);
    c20 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c2), c20); c21 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c2 + 8), c21);
    c30 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c3), c30); c31 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c3 + 8), c31);
    c40 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c4), c40); c41 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c4 + 8), c41);
    c50 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c5), c50); c51 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c5 + 8), c51);
  }
  _mm256_storeu_ps(c0, c00); _mm256_storeu_ps(c0 + 8, c01);
  _mm256_storeu_ps(c1, c10); _mm256_storeu_ps(c1 + 8, c11);
  _mm256_storeu_ps(c2, c20); _mm256_storeu_ps(c2 + 8, c21);
  _mm256_storeu_ps(c3, c30); _mm256_storeu_ps(c3 + 8, c31);
  _mm256_storeu_ps(c4, c40); _mm256_storeu_ps(c4 + 8, c41);
  _mm256_storeu_ps(c5, c50); _mm256_storeu_ps(c5 + 8, c51);
}

}  // namespace mb
