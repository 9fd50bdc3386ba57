// gemm_avx512.cc — the AVX-512 sgemm micro-kernel (compiled with -mavx512f/vl/dq/bw -mfma only).
//
// C[12, 32] = Ap[kc, 12]ᵀ · Bp[kc, 32] + beta * C: each step of k loads one row of the B micro-panel
// (two zmm), broadcasts the twelve A values of that step, and issues 24 FMAs into 24 accumulators
// (rows 0..11 × column halves 0..1). 24 independent chains cover the FMA latency of two 512-bit FMA
// pipes; 24 accumulators + 2 B registers + a broadcast fit in the 32 zmm registers.
#include <immintrin.h>

#include "gemm.h"
#include "gemm_config.h"

namespace mb {

static_assert(gemm_config::MR_AVX512 == 12 && gemm_config::NR_AVX512 == 32, "the AVX-512 micro-kernel is 12 x 32");

void sgemm_ukernel_avx512_12x32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, float beta) {
#define MB_DECL(i) __m512 c##i##_0 = _mm512_setzero_ps(), c##i##_1 = _mm512_setzero_ps();
  MB_DECL(0) MB_DECL(1) MB_DECL(2) MB_DECL(3) MB_DECL(4) MB_DECL(5)
  MB_DECL(6) MB_DECL(7) MB_DECL(8) MB_DECL(9) MB_DECL(10) MB_DECL(11)
#undef MB_DECL

  for (int r = 0; r < 12; r++) {
    _mm_prefetch((const char*)(C + r * ldc), _MM_HINT_T0);
    _mm_prefetch((const char*)(C + r * ldc + 31), _MM_HINT_T0);
  }

#define MB_ROW(s, i)                                               \
  {                                                                \
    const __m512 a = _mm512_set1_ps(Ap[12 * (s) + (i)]);           \
    c##i##_0 = _mm512_fmadd_ps(a, b0, c##i##_0);                   \
    c##i##_1 = _mm512_fmadd_ps(a, b1, c##i##_1);                   \
  }
#define MB_STEP(s)                                                 \
  {                                                                \
    const __m512 b0 = _mm512_load_ps(Bp + 32 * (s));               \
    const __m512 b1 = _mm512_load_ps(Bp + 32 * (s) + 16);          \
    MB_ROW(s, 0) MB_ROW(s, 1) MB_ROW(s, 2) MB_ROW(s, 3)            \
    MB_ROW(s, 4) MB_ROW(s, 5) MB_ROW(s, 6) MB_ROW(s, 7)            \
    MB_ROW(s, 8) MB_ROW(s, 9) MB_ROW(s, 10) MB_ROW(s, 11)          \
  }

  // One step per iteration: unrolling it in the source makes the compiler hoist B loads of later
  // steps and spill accumulators; the loop overhead is small against 24 FMAs.
  for (int64_t p = 0; p < kc; p++) {
    MB_STEP(0)
    Ap += 12;
    Bp += 32;
  }
#undef MB_STEP
#undef MB_ROW

  if (beta == 0.f) {
    // C is not read: NaN or garbage in it does not propagate.
  } else if (beta == 1.f) {
#define MB_ADD(i)                                                            \
  c##i##_0 = _mm512_add_ps(c##i##_0, _mm512_loadu_ps(C + (i) * ldc));        \
  c##i##_1 = _mm512_add_ps(c##i##_1, _mm512_loadu_ps(C + (i) * ldc + 16));
    MB_ADD(0) MB_ADD(1) MB_ADD(2) MB_ADD(3) MB_ADD(4) MB_ADD(5)
    MB_ADD(6) MB_ADD(7) MB_ADD(8) MB_ADD(9) MB_ADD(10) MB_ADD(11)
#undef MB_ADD
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#define MB_AXPY(i)                                                               \
  c##i##_0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(C + (i) * ldc), c##i##_0);      \
  c##i##_1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(C + (i) * ldc + 16), c##i##_1);
    MB_AXPY(0) MB_AXPY(1) MB_AXPY(2) MB_AXPY(3) MB_AXPY(4) MB_AXPY(5)
    MB_AXPY(6) MB_AXPY(7) MB_AXPY(8) MB_AXPY(9) MB_AXPY(10) MB_AXPY(11)
#undef MB_AXPY
  }
#define MB_STORE(i)                               \
  _mm512_storeu_ps(C + (i) * ldc, c##i##_0);      \
  _mm512_storeu_ps(C + (i) * ldc + 16, c##i##_1);
  MB_STORE(0) MB_STORE(1) MB_STORE(2) MB_STORE(3) MB_STORE(4) MB_STORE(5)
  MB_STORE(6) MB_STORE(7) MB_STORE(8) MB_STORE(9) MB_STORE(10) MB_STORE(11)
#undef MB_STORE
}

}  // namespace mb
