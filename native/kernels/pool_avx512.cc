// pool_avx512.cc — 2×2 stride-2 max pooling with AVX-512, 16 windows a step: forward over a chunk of
// planes, backward by plane, masked steps only near the end of the chunk or plane (compiled with
// the AVX-512 flags only; called only when simd_level() == Avx512). Same contract and rule as the
// scalar code in pool.cc: argmax is the first maximum in row-major window order, a NaN wins (the
// last NaN).
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


// One step of 16 windows of the 2×2 forward at output column j of a row (inputs r0, r1, outputs yr,
// ar). Masked: only the row's n = min(16, ow - j) windows are read and written. Plain: full loads
// and stores (lanes past the row read on and write outputs that a later step overwrites).
template <bool Masked>
__attribute__((always_inline)) inline void fwd_step(float* yr, int32_t* ar, const float* r0, const float* r1, int64_t j,
                                                    int64_t ow, int32_t base, __m512i even, __m512i odd, __m512i w1,
                                                    __m512i w2, __m512i one) {
  __m512 a0, a1, b0, b1;
  __mmask16 mlo = 0xFFFF, mhi = 0xFFFF, mout = 0xFFFF;
  if constexpr (Masked) {
    masks(ow - j < 16 ? ow - j : 16, mlo, mhi, mout);
    a0 = _mm512_maskz_loadu_ps(mlo, r0 + 2 * j), a1 = _mm512_maskz_loadu_ps(mhi, r0 + 2 * j + 16);
    b0 = _mm512_maskz_loadu_ps(mlo, r1 + 2 * j), b1 = _mm512_maskz_loadu_ps(mhi, r1 + 2 * j + 16);
  } else {
    a0 = _mm512_loadu_ps(r0 + 2 * j), a1 = _mm512_loadu_ps(r0 + 2 * j + 16);
    b0 = _mm512_loadu_ps(r1 + 2 * j), b1 = _mm512_loadu_ps(r1 + 2 * j + 16);
  }
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
  if constexpr (Masked) {
    _mm512_mask_storeu_ps(yr + j, mout, best);
    _mm512_mask_storeu_epi32(ar + j, mout, idx);
  } else {
    _mm512_storeu_ps(yr + j, best);
    _mm512_storeu_si512(ar + j, idx);
  }
}

}  // namespace

// planes consecutive [h, w] planes → [oh, ow] planes (y, am contiguous over the planes). A row whose
// steps all read before x_end and store 16 lanes before the chunk's own end runs unmasked: lanes
// past the row read the next row (or plane) and write outputs that a later step of this call,
// walking forward, overwrites with their values. Only the rows near the end of the input or of the
// chunk are masked (on Zen 4 a masked load or store costs several times a plain one; profiling,
// [64, 16, 28, 28] on one core: 0.12 ms with every step masked, 0.07-0.09 ms so).
void max_pool2x2_planes_avx512(float* y, int32_t* am, const float* x, int64_t planes, int64_t h, int64_t w,
                               int64_t oh, int64_t ow, const float* x_end) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i w1 = _mm512_set1_epi32((int32_t)w), w2 = _mm512_set1_epi32((int32_t)w + 1), one = _mm512_set1_epi32(1);
  const float* y_end = y + planes * oh * ow;
  // the last step of a row starts at this column: its reads end at 2·last + 32, its stores at last + 16
  const int64_t last = (ow - 1) / 16 * 16;
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * h * w;
    float* yp = y + pl * oh * ow;
    int32_t* ap = am + pl * oh * ow;
    for (int64_t i = 0; i < oh; i++) {
      const float* r0 = xp + 2 * i * w;
      const float* r1 = r0 + w;
      const int32_t base = (int32_t)(2 * i * w);
      float* yr = yp + i * ow;
      int32_t* ar = ap + i * ow;
      if (r1 + 2 * last + 32 <= x_end && yr + last + 16 <= y_end) {
        for (int64_t j = 0; j < ow; j += 16) fwd_step<false>(yr, ar, r0, r1, j, ow, base, even, odd, w1, w2, one);
      } else {
        for (int64_t j = 0; j < ow; j += 16) fwd_step<true>(yr, ar, r0, r1, j, ow, base, even, odd, w1, w2, one);
      }
    }
  }
}

namespace {

// One backward step of 16 windows at output column j of a row pair (d0, d1; gr, ar its dy and
// argmax rows); false when an argmax of the row's own lanes lies outside its window. Plain: full
// loads and stores (lanes past the row read the next row's dy and argmax and write values that a
// later store overwrites, see max_pool2x2_backward_plane_avx512).
template <bool Masked>
__attribute__((always_inline)) inline bool bwd_step(float* d0, float* d1, const float* gr, const int32_t* ar, int64_t j,
                                                    int64_t ow, int32_t base, __m512i even, __m512i lo, __m512i hi,
                                                    __m512i w1, __m512i w2, __m512i one) {
  __mmask16 mlo = 0xFFFF, mhi = 0xFFFF, mout;
  __m512 g;
  __m512i av;
  if constexpr (Masked) {
    masks(ow - j < 16 ? ow - j : 16, mlo, mhi, mout);
    g = _mm512_maskz_loadu_ps(mout, gr + j);
    av = _mm512_maskz_loadu_epi32(mout, ar + j);
  } else {
    mout = ow - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (ow - j)) - 1);  // the row's own lanes
    g = _mm512_loadu_ps(gr + j);
    av = _mm512_loadu_si512(ar + j);
  }
  const __m512i a = _mm512_sub_epi32(av, _mm512_add_epi32(_mm512_set1_epi32(base + (int32_t)(2 * j)), even));
  const __mmask16 m0 = _mm512_cmpeq_epi32_mask(a, _mm512_setzero_si512()), m1 = _mm512_cmpeq_epi32_mask(a, one);
  const __mmask16 m2 = _mm512_cmpeq_epi32_mask(a, w1), m3 = _mm512_cmpeq_epi32_mask(a, w2);
  if ((__mmask16)((m0 | m1 | m2 | m3) & mout) != mout) return false;
  // g + 0 where the mask is set, else 0: -0 becomes +0, as in the scatter's 0 + g
  const __m512 z = _mm512_setzero_ps();
  const __m512 e0 = _mm512_maskz_add_ps(m0, g, z), o0 = _mm512_maskz_add_ps(m1, g, z);
  const __m512 e1 = _mm512_maskz_add_ps(m2, g, z), o1 = _mm512_maskz_add_ps(m3, g, z);
  if constexpr (Masked) {
    _mm512_mask_storeu_ps(d0 + 2 * j, mlo, _mm512_permutex2var_ps(e0, lo, o0));
    _mm512_mask_storeu_ps(d0 + 2 * j + 16, mhi, _mm512_permutex2var_ps(e0, hi, o0));
    _mm512_mask_storeu_ps(d1 + 2 * j, mlo, _mm512_permutex2var_ps(e1, lo, o1));
    _mm512_mask_storeu_ps(d1 + 2 * j + 16, mhi, _mm512_permutex2var_ps(e1, hi, o1));
  } else {
    _mm512_storeu_ps(d0 + 2 * j, _mm512_permutex2var_ps(e0, lo, o0));
    _mm512_storeu_ps(d0 + 2 * j + 16, _mm512_permutex2var_ps(e0, hi, o0));
    _mm512_storeu_ps(d1 + 2 * j, _mm512_permutex2var_ps(e1, lo, o1));
    _mm512_storeu_ps(d1 + 2 * j + 16, _mm512_permutex2var_ps(e1, hi, o1));
  }
  return true;
}

}  // namespace

// dx [h, w] (overwritten) from dy [oh, ow] and argmax: each window's four inputs are written once
// (dy where argmax points, else 0). Returns false, having written part of dx, when an argmax lies
// outside its own window (the caller then redoes the plane with the general scatter).
// A row pair whose loads stay inside the plane's dy and argmax and whose stores stay inside its dx
// runs unmasked, its steps from the last to the first: the last step's spill past d0's row lands
// on d1's first columns, which the first step writes after it; d1's spill lands on the next row
// pair (or the odd last row), written after it. The other row pairs are masked.
bool max_pool2x2_backward_plane_avx512(float* dx, const int32_t* am, const float* dy, int64_t h, int64_t w,
                                       int64_t oh, int64_t ow) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
  const __m512i w1 = _mm512_set1_epi32((int32_t)w), w2 = _mm512_set1_epi32((int32_t)w + 1), one = _mm512_set1_epi32(1);
  const int64_t last = (ow - 1) / 16 * 16;  // the column of a row's last step
  const float* dx_end = dx + h * w;
  const float* dy_end = dy + oh * ow;
  for (int64_t i = 0; i < oh; i++) {
    float* d0 = dx + 2 * i * w;
    float* d1 = d0 + w;
    const int32_t base = (int32_t)(2 * i * w);
    const float* gr = dy + i * ow;
    const int32_t* ar = am + i * ow;
    if (gr + last + 16 <= dy_end && d1 + 2 * last + 32 <= dx_end) {
      for (int64_t j = last; j >= 0; j -= 16)
        if (!bwd_step<false>(d0, d1, gr, ar, j, ow, base, even, lo, hi, w1, w2, one)) return false;
    } else {
      for (int64_t j = 0; j < ow; j += 16)
        if (!bwd_step<true>(d0, d1, gr, ar, j, ow, base, even, lo, hi, w1, w2, one)) return false;
    }
    if (w > 2 * ow) d0[w - 1] = d1[w - 1] = 0.f;  // odd width: the last column is in no window
  }
  if (h > 2 * oh) std::memset(dx + 2 * oh * w, 0, sizeof(float) * (size_t)w);  // odd height: the last row
  return true;
}

}  // namespace mb
