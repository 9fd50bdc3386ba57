// gemm_avx512.cc — the AVX-512 sgemm micro-kernel (compiled with -mavx512f/vl/dq/bw -mfma only).
//
// C[12, 32] = Ap[kc, 12]ᵀ · Bp[kc, 32] + beta * C: each step of k loads one row of the B micro-panel
// (two zmm), broadcasts the twelve A values of that step, and issues 24 FMAs into 24 accumulators
// (rows 0..11 × column halves 0..1). 24 independent chains cover the FMA latency of two 512-bit FMA
// pipes; 24 accumulators + 2 B registers + a broadcast fit in the 32 zmm registers.
// GCC 12's AVX-512 headers initialise the unused pass-through operand of the shuffle builtins with
// itself (_mm512_undefined_*), which -Wmaybe-uninitialized reports once inlined (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
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

namespace mb {

// 16 × 16 transpose in registers: r[i] holds row i on entry, col[q] holds column q on exit
// (unpack pairs of rows, then pairs of pairs, then two rounds of 128-bit lane shuffles).
static inline void transpose16(__m512 col[16], __m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // r[4g + c]: rows 4g..4g+3 at column 4L + c of each 128-bit lane L.
#pragma GCC unroll 4
  for (int g = 0; g < 4; g++) {
    const __m512d a0 = _mm512_castps_pd(t[4 * g]), a1 = _mm512_castps_pd(t[4 * g + 1]);
    const __m512d a2 = _mm512_castps_pd(t[4 * g + 2]), a3 = _mm512_castps_pd(t[4 * g + 3]);
    r[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a0, a2));
    r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a0, a2));
    r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(a1, a3));
    r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(a1, a3));
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; c++) {
    const __m512 u0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);       // cols c, c+8 of rows 0..7
    const __m512 u1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);       // cols c+4, c+12 of rows 0..7
    const __m512 u2 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);  // cols c, c+8 of rows 8..15
    const __m512 u3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);  // cols c+4, c+12 of rows 8..15
    col[c] = _mm512_shuffle_f32x4(u0, u2, 0x88);
    col[c + 8] = _mm512_shuffle_f32x4(u0, u2, 0xdd);
    col[c + 4] = _mm512_shuffle_f32x4(u1, u3, 0x88);
    col[c + 12] = _mm512_shuffle_f32x4(u1, u3, 0xdd);
  }
}

// Packs one full 32-wide micro-panel of a transposed B: src[j·ldb + p] (j < 32, p < kc) →
// dst[p·32 + j], 16 × 16 blocks transposed in registers; the last kc % 16 steps one by one.
void sgemm_pack_b_t_avx512_32(float* dst, const float* src, int64_t ldb, int64_t kc) {
  int64_t p = 0;
  for (; p + 16 <= kc; p += 16) {
    for (int h = 0; h < 2; h++) {
      const float* s = src + (int64_t)h * 16 * ldb + p;
      __m512 r[16], col[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(s + i * ldb);
      transpose16(col, r);
      float* d = dst + p * 32 + h * 16;
#pragma GCC unroll 16
      for (int q = 0; q < 16; q++) _mm512_store_ps(d + q * 32, col[q]);
    }
  }
  for (; p < kc; p++)
    for (int64_t j = 0; j < 32; j++) dst[p * 32 + j] = src[j * ldb + p];
}

// Packs one full 12-row micro-panel of a row-major A, scaled: src[i·lda + p] (i < 12, p < kc) →
// dst[p·12 + i] = alpha · src[i·lda + p]. Rows 12..15 of each 16 × 16 block are zero and not stored.
void sgemm_pack_a_n_avx512_12(float* dst, const float* src, int64_t lda, int64_t kc, float alpha) {
  const __m512 va = _mm512_set1_ps(alpha);
  const __mmask16 m12 = 0x0FFF;
  int64_t p = 0;
  for (; p + 16 <= kc; p += 16) {
    __m512 r[16], col[16];
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) r[i] = _mm512_loadu_ps(src + i * lda + p);
#pragma GCC unroll 4
    for (int i = 12; i < 16; i++) r[i] = _mm512_setzero_ps();
    transpose16(col, r);
#pragma GCC unroll 16
    for (int q = 0; q < 16; q++) _mm512_mask_storeu_ps(dst + (p + q) * 12, m12, _mm512_mul_ps(va, col[q]));
  }
  for (; p < kc; p++)
    for (int64_t i = 0; i < 12; i++) dst[p * 12 + i] = alpha * src[i * lda + p];
}

}  // namespace mb
