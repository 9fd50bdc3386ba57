// pool_avx2.cc — 2×2 stride-2 max pooling with AVX2, 8 windows a step: forward over a chunk of planes,
// backward by plane, masked steps only near the end of the chunk or plane (compiled with -mavx2
// -mfma only; called only when simd_level() >= Avx2 and the AVX-512 form is not used). Same
// contract and rule as the scalar code in pool.cc and pool_avx512.cc: first maximum in row-major
// window order, a NaN wins (the last NaN).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace mb {

namespace {

// All-ones in the lanes below k (k may be <= 0 or >= 8).
inline __m256i lanes(int64_t k) {
  const int32_t c = (int32_t)(k < 0 ? 0 : k > 8 ? 8 : k);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Even and odd elements of the 16 floats at p (the first `m` of them: the rest read as 0), in order.
inline void deinterleave(const float* p, int64_t m, __m256& ev, __m256& od) {
  const __m256 a = m >= 16 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes(m));
  const __m256 b = m >= 16 ? _mm256_loadu_ps(p + 8) : _mm256_maskload_ps(p + 8, lanes(m - 8));
  ev = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
  od = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

// best/idx take v/at where v > best or v is NaN.
inline void take(__m256& best, __m256i& idx, __m256 v, __m256i at) {
  const __m256 t = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  best = _mm256_blendv_ps(best, v, t);
  idx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(idx), _mm256_castsi256_ps(at), t));
}

// Stores e and o interleaved (e0, o0, e1, o1, ...) as 16 floats at p (the first `m` of them).
inline void interleave(float* p, int64_t m, __m256 e, __m256 o) {
  const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
  const __m256 x0 = _mm256_permute2f128_ps(lo, hi, 0x20), x1 = _mm256_permute2f128_ps(lo, hi, 0x31);
  if (m >= 16) {
    _mm256_storeu_ps(p, x0);
    _mm256_storeu_ps(p + 8, x1);
  } else {
    _mm256_maskstore_ps(p, lanes(m), x0);
    _mm256_maskstore_ps(p + 8, lanes(m - 8), x1);
  }
}

// One step of 8 windows at output column j of a row (see pool_avx512.cc's fwd_step): masked, only
// the row's n = min(8, ow - j) windows are read and written; plain, full loads and stores.
template <bool Masked>
__attribute__((always_inline)) inline void fwd_step(float* yr, int32_t* ar, const float* r0, const float* r1, int64_t j,
                                                    int64_t ow, int32_t base, __m256i even, __m256i w1, __m256i w2,
                                                    __m256i one) {
  const int64_t n = Masked ? (ow - j < 8 ? ow - j : 8) : 8;
  __m256 best, v1, v2, v3;
  deinterleave(r0 + 2 * j, 2 * n, best, v1);
  deinterleave(r1 + 2 * j, 2 * n, v2, v3);
  const __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32(base + (int32_t)(2 * j)), even);
  __m256i idx = c0;
  take(best, idx, v1, _mm256_add_epi32(c0, one));
  take(best, idx, v2, _mm256_add_epi32(c0, w1));
  take(best, idx, v3, _mm256_add_epi32(c0, w2));
  if (n == 8) {
    _mm256_storeu_ps(yr + j, best);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ar + j), idx);
  } else {
    _mm256_maskstore_ps(yr + j, lanes(n), best);
    _mm256_maskstore_epi32(ar + j, lanes(n), idx);
  }
}

}  // namespace

// planes consecutive planes in one call, as max_pool2x2_planes_avx512: rows whose steps all read
// before x_end and store 8 lanes before the chunk's end run unmasked (AMD's vmaskmov stores are
// slow: profiling, [64, 16, 28, 28] on one Zen 4 core took 0.31 ms with the masked last step of
// every row), the others with the row's last step masked.
void max_pool2x2_planes_avx2(float* y, int32_t* am, const float* x, int64_t planes, int64_t h, int64_t w, int64_t oh,
                             int64_t ow, const float* x_end) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i w1 = _mm256_set1_epi32((int32_t)w), w2 = _mm256_set1_epi32((int32_t)w + 1), one = _mm256_set1_epi32(1);
  const float* y_end = y + planes * oh * ow;
  const int64_t last = (ow - 1) / 8 * 8;  // the column of a row's last step
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * h * w;
    for (int64_t i = 0; i < oh; i++) {
      const float* r0 = xp + 2 * i * w;
      const float* r1 = r0 + w;
      const int32_t base = (int32_t)(2 * i * w);
      float* yr = y + (pl * oh + i) * ow;
      int32_t* ar = am + (pl * oh + i) * ow;
      if (r1 + 2 * last + 16 <= x_end && yr + last + 8 <= y_end) {
        for (int64_t j = 0; j < ow; j += 8) fwd_step<false>(yr, ar, r0, r1, j, ow, base, even, w1, w2, one);
      } else {
        for (int64_t j = 0; j < ow; j += 8) fwd_step<true>(yr, ar, r0, r1, j, ow, base, even, w1, w2, one);
      }
    }
  }
}

namespace {

// One backward step of 8 windows (see pool_avx512.cc's bwd_step): false when an argmax of the row's
// own lanes lies outside its window; plain, full loads and stores.
template <bool Masked>
__attribute__((always_inline)) inline bool bwd_step(float* d0, float* d1, const float* gr, const int32_t* ar, int64_t j,
                                                    int64_t ow, int32_t base, __m256i even, __m256i w1, __m256i w2,
                                                    __m256i one) {
  const int64_t n = ow - j < 8 ? ow - j : 8;  // the row's own lanes
  __m256 g;
  __m256i av;
  if (!Masked || n == 8) {
    g = _mm256_loadu_ps(gr + j);
    av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ar + j));
  } else {
    const __m256i in = lanes(n);
    g = _mm256_maskload_ps(gr + j, in);
    av = _mm256_maskload_epi32(ar + j, in);
  }
  const __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32(base + (int32_t)(2 * j)), even);
  const __m256i a = _mm256_sub_epi32(av, c0);
  const __m256 m0 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, _mm256_setzero_si256()));
  const __m256 m1 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, one));
  const __m256 m2 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, w1));
  const __m256 m3 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, w2));
  const int hit = _mm256_movemask_ps(_mm256_or_ps(_mm256_or_ps(m0, m1), _mm256_or_ps(m2, m3)));
  const int want = (1 << n) - 1;
  if ((hit & want) != want) return false;
  // (g & mask) + 0: -0 becomes +0, as in the scatter's 0 + g
  const __m256 z = _mm256_setzero_ps();
  const int64_t m = Masked ? 2 * n : 16;
  interleave(d0 + 2 * j, m, _mm256_add_ps(_mm256_and_ps(g, m0), z), _mm256_add_ps(_mm256_and_ps(g, m1), z));
  interleave(d1 + 2 * j, m, _mm256_add_ps(_mm256_and_ps(g, m2), z), _mm256_add_ps(_mm256_and_ps(g, m3), z));
  return true;
}

}  // namespace

// As max_pool2x2_backward_plane_avx512, row pairs unmasked (steps from the last to the first) where
// their loads and stores stay inside the plane, masked otherwise.
bool max_pool2x2_backward_plane_avx2(float* dx, const int32_t* am, const float* dy, int64_t h, int64_t w,
                                     int64_t oh, int64_t ow) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i w1 = _mm256_set1_epi32((int32_t)w), w2 = _mm256_set1_epi32((int32_t)w + 1), one = _mm256_set1_epi32(1);
  const int64_t last = (ow - 1) / 8 * 8;  // the column of a row's last step
  const float* dx_end = dx + h * w;
  const float* dy_end = dy + oh * ow;
  for (int64_t i = 0; i < oh; i++) {
    float* d0 = dx + 2 * i * w;
    float* d1 = d0 + w;
    const int32_t base = (int32_t)(2 * i * w);
    const float* gr = dy + i * ow;
    const int32_t* ar = am + i * ow;
    if (gr + last + 8 <= dy_end && d1 + 2 * last + 16 <= dx_end) {
      for (int64_t j = last; j >= 0; j -= 8)
        if (!bwd_step<false>(d0, d1, gr, ar, j, ow, base, even, w1, w2, one)) return false;
    } else {
      for (int64_t j = 0; j < ow; j += 8)
        if (!bwd_step<true>(d0, d1, gr, ar, j, ow, base, even, w1, w2, one)) return false;
    }
    if (w > 2 * ow) d0[w - 1] = d1[w - 1] = 0.f;  // odd width: the last column is in no window
  }
  if (h > 2 * oh) std::memset(dx + 2 * oh * w, 0, sizeof(float) * (size_t)w);  // odd height: the last row
  return true;
}

}  // namespace mb
