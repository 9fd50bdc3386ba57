// pool_avx512.cc — 2×2 stride-2 max pooling of one plane with AVX-512 (compiled with the AVX-512
// flags only; called only when simd_level() == Avx512). Same contract and rule as the scalar code in
// pool.cc: argmax is the first maximum in row-major window order, a NaN wins (the last NaN).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace mb {

namespace {

// One window, scalar (row tails): the same rule as the vector lanes.
void window_fwd(const float* r0, const float* r1, int32_t c0, int32_t w, int64_t ow, float* y, int32_t* am) {
  float best = r0[2 * ow];
  int32_t idx = c0;
  const float v[3] = {r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
  const int32_t at[3] = {c0 + 1, c0 + w, c0 + w + 1};
  for (int i = 0; i < 3; i++) {
    const bool t = (v[i] > best) | (v[i] != v[i]);
    best = t ? v[i] : best;
    idx = t ? at[i] : idx;
  }
  *y = best;
  *am = idx;
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
    float* yr = y + i * ow;
    int32_t* ar = am + i * ow;
    int64_t j = 0;
    for (; j + 16 <= ow; j += 16) {
      const __m512 a0 = _mm512_loadu_ps(r0 + 2 * j), a1 = _mm512_loadu_ps(r0 + 2 * j + 16);
      const __m512 b0 = _mm512_loadu_ps(r1 + 2 * j), b1 = _mm512_loadu_ps(r1 + 2 * j + 16);
      const __m512 v1 = _mm512_permutex2var_ps(a0, odd, a1), v2 = _mm512_permutex2var_ps(b0, even, b1);
      const __m512 v3 = _mm512_permutex2var_ps(b0, odd, b1);
      __m512 best = _mm512_permutex2var_ps(a0, even, a1);
      const __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32(base + (int32_t)(2 * j)), even);
      __m512i idx = c0;
      __mmask16 t = _mm512_cmp_ps_mask(v1, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v1, v1, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, t, v1);
      idx = _mm512_mask_mov_epi32(idx, t, _mm512_add_epi32(c0, one));
      t = _mm512_cmp_ps_mask(v2, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v2, v2, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, t, v2);
      idx = _mm512_mask_mov_epi32(idx, t, _mm512_add_epi32(c0, w1));
      t = _mm512_cmp_ps_mask(v3, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v3, v3, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, t, v3);
      idx = _mm512_mask_mov_epi32(idx, t, _mm512_add_epi32(c0, w2));
      _mm512_storeu_ps(yr + j, best);
      _mm512_storeu_si512(ar + j, idx);
    }
    for (; j < ow; j++) window_fwd(r0, r1, base + (int32_t)(2 * j), (int32_t)w, j, yr + j, ar + j);
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
    int64_t j = 0;
    for (; j + 16 <= ow; j += 16) {
      const __m512 g = _mm512_loadu_ps(gr + j);
      const __m512i a = _mm512_sub_epi32(_mm512_loadu_si512(ar + j), _mm512_add_epi32(_mm512_set1_epi32(base + (int32_t)(2 * j)), even));
      const __mmask16 m0 = _mm512_cmpeq_epi32_mask(a, _mm512_setzero_si512()), m1 = _mm512_cmpeq_epi32_mask(a, one);
      const __mmask16 m2 = _mm512_cmpeq_epi32_mask(a, w1), m3 = _mm512_cmpeq_epi32_mask(a, w2);
      if ((__mmask16)(m0 | m1 | m2 | m3) != 0xFFFF) return false;
      // g + 0 where the mask is set, else 0: -0 becomes +0, as in the scatter's 0 + g
      const __m512 z = _mm512_setzero_ps();
      const __m512 e0 = _mm512_maskz_add_ps(m0, g, z), o0 = _mm512_maskz_add_ps(m1, g, z);
      const __m512 e1 = _mm512_maskz_add_ps(m2, g, z), o1 = _mm512_maskz_add_ps(m3, g, z);
      _mm512_storeu_ps(d0 + 2 * j, _mm512_permutex2var_ps(e0, lo, o0));
      _mm512_storeu_ps(d0 + 2 * j + 16, _mm512_permutex2var_ps(e0, hi, o0));
      _mm512_storeu_ps(d1 + 2 * j, _mm512_permutex2var_ps(e1, lo, o1));
      _mm512_storeu_ps(d1 + 2 * j + 16, _mm512_permutex2var_ps(e1, hi, o1));
    }
    for (; j < ow; j++) {
      const int32_t off = ar[j] - (base + (int32_t)(2 * j));
      if (off != 0 && off != 1 && off != w && off != w + 1) return false;
      const float g = gr[j] + 0.f;
      d0[2 * j] = off == 0 ? g : 0.f;
      d0[2 * j + 1] = off == 1 ? g : 0.f;
      d1[2 * j] = off == w ? g : 0.f;
      d1[2 * j + 1] = off == w + 1 ? g : 0.f;
    }
    if (w > 2 * ow) d0[w - 1] = d1[w - 1] = 0.f;  // odd width: the last column is in no window
  }
  if (h > 2 * oh) std::memset(dx + 2 * oh * w, 0, sizeof(float) * (size_t)w);  // odd height: the last row
  return true;
}

}  // namespace mb
