// pool_avx512.cc — 2×2 stride-2 max pooling of one plane with AVX-512, 16 windows a step, the last
// step of a row masked (compiled with the AVX-512 flags only; called only when simd_level() ==
// Avx512). Same contract and rule as the scalar code in pool.cc: argmax is the first maximum in
// row-major window order, a NaN wins (the last NaN).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace mb {

namespace {

// Masks of the first 2n floats of a 32-float pair of loads (lo, hi) and of the first n lanes.
inline void masks(int64_t n, __mmask16& lo, __mmask16& hi, __mmask16& out) {
  lo = n >= 8 ? (__mmask16)0xFFFF : (__mmask16)((1u << (2 * n)) - 1);
  hi = n <= 8 ? (__mmask16)0 : (__mmask16)((1u << (2 * (n - 8))) - 1);
  out = (__mmask16)((1u << n) - 1);
}

}  // namespace

void max_pool2x2_plane_avx512(float* y, int32_t* am, const float* x, int64_t h, int64_t w, int64_t oh, int64_t ow) {
  (void)h;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i w1 = _mm512_set1_epi32((int32_t)w), w2 = _mm512_set1_epi32((int32_t)w + 1), one = _mm512_set1_epi32(1);
  for (int64_t i = 0; i < oh; i++) {
    const float* r0 = x + 2 * i * w;
    const float* r1 = r0 + w;
    const int32_t base = (int32_t)(2 * i * w);
    // 16 windows a step; the row's last step is masked (lanes past the row read and write nothing).
    for (int64_t j = 0; j < ow; j += 16) {
      __mmask16 mlo, mhi, mout;
      masks(ow - j < 16 ? ow - j : 16, mlo, mhi, mout);
      const __m512 a0 = _mm512_maskz_loadu_ps(mlo, r0 + 2 * j), a1 = _mm512_maskz_loadu_ps(mhi, r0 + 2 * j + 16);
      const __m512 b0 = _mm512_maskz_loadu_ps(mlo, r1 + 2 * j), b1 = _mm512_maskz_loadu_ps(mhi, r1 + 2 * j + 16);
      const __m512 v1 = _mm512_permutex2var_ps(a0, odd, a1), v2 = _mm512_permutex2var_ps(b0, even, b1);
      const __m512 v3 = _mm512_permutex2var_ps(b0, odd, b1);
      __m512 best = _mm512_permutex2var_ps(a0, even, a1);
      const __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32(base + (int32_t)(2 * j)), even);
      __m512i idx = c0;
      // best/idx take v where v > best or v is NaN: the first maximum, the last NaN
      __mmask16 t = _mm512_cmp_ps_mask(v1, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, t, v1);
      idx = _mm512_mask_mov_epi32(idx, t, _mm512_add_epi32(c0, one));
      t = _mm512_cmp_ps_mask(v2, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v2, v2, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, t, v2);
      idx = _mm512_mask_mov_epi32(idx, t, _mm512_add_epi32(c0, w1));
      t = _mm512_cmp_ps_mask(v3, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v3, v3, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, t, v3);
      idx = _mm512_mask_mov_epi32(idx, t, _mm512_add_epi32(c0, w2));
      _mm512_mask_storeu_ps(y + i * ow + j, mout, best);
      _mm512_mask_storeu_epi32(am + i * ow + j, mout, idx);
    }
  }
}

// dx [h, w] (overwritten) from dy [oh, ow] and argmax: each window's four inputs are written once
// (dy where argmax points, else 0). Returns false, having written part of dx, when an argmax lies
// outside its own window (the caller then redoes the plane with the general scatter).
bool max_pool2x2_backward_plane_avx512(float* dx, const int32_t* am, const float* dy, int64_t h, int64_t w,
                                       int64_t oh, int64_t ow) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
  const __m512i w1 = _mm512_set1_epi32((int32_t)w), w2 = _mm512_set1_epi32((int32_t)w + 1), one = _mm512_set1_epi32(1);
  for (int64_t i = 0; i < oh; i++) {
    float* d0 = dx + 2 * i * w;
    float* d1 = d0 + w;
    const int32_t base = (int32_t)(2 * i * w);
    const float* gr = dy + i * ow;
    const int32_t* ar = am + i * ow;
    for (int64_t j = 0; j < ow; j += 16) {
      __mmask16 mlo, mhi, mout;
      masks(ow - j < 16 ? ow - j : 16, mlo, mhi, mout);
      const __m512 g = _mm512_maskz_loadu_ps(mout, gr + j);
      const __m512i a = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(mout, ar + j),
                                         _mm512_add_epi32(_mm512_set1_epi32(base + (int32_t)(2 * j)), even));
      const __mmask16 m0 = _mm512_cmpeq_epi32_mask(a, _mm512_setzero_si512()), m1 = _mm512_cmpeq_epi32_mask(a, one);
      const __mmask16 m2 = _mm512_cmpeq_epi32_mask(a, w1), m3 = _mm512_cmpeq_epi32_mask(a, w2);
      if ((__mmask16)((m0 | m1 | m2 | m3) & mout) != mout) return false;
      // g + 0 where the mask is set, else 0: -0 becomes +0, as in the scatter's 0 + g
      const __m512 z = _mm512_setzero_ps();
      const __m512 e0 = _mm512_maskz_add_ps(m0, g, z), o0 = _mm512_maskz_add_ps(m1, g, z);
      const __m512 e1 = _mm512_maskz_add_ps(m2, g, z), o1 = _mm512_maskz_add_ps(m3, g, z);
      _mm512_mask_storeu_ps(d0 + 2 * j, mlo, _mm512_permutex2var_ps(e0, lo, o0));
      _mm512_mask_storeu_ps(d0 + 2 * j + 16, mhi, _mm512_permutex2var_ps(e0, hi, o0));
      _mm512_mask_storeu_ps(d1 + 2 * j, mlo, _mm512_permutex2var_ps(e1, lo, o1));
      _mm512_mask_storeu_ps(d1 + 2 * j + 16, mhi, _mm512_permutex2var_ps(e1, hi, o1));
    }
    if (w > 2 * ow) d0[w - 1] = d1[w - 1] = 0.f;  // odd width: the last column is in no window
  }
  if (h > 2 * oh) std::memset(dx + 2 * oh * w, 0, sizeof(float) * (size_t)w);  // odd height: the last row
  return true;
}

}  // namespace mb
