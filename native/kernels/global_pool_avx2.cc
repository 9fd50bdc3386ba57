// global_pool_avx2.cc — one plane of global average pooling with AVX2 (compiled with -mavx2 -mfma
// only; called only when simd_level() >= Avx2 and the AVX-512 form is not used): the plane's floats
// widened to double and summed in four ymm accumulators, 16 a step, the last step masked; the
// gradient fill 8 a step, the last step masked. Same contract as the scalar code in global_pool.cc.
#include <immintrin.h>

#include <cstdint>

namespace mb {

namespace {

// All-ones in the lanes below k (0 <= k <= 8).
inline __m256i lanes(int64_t k) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// a += the low four floats of v, b += the high four, as doubles.
inline void widen_add(__m256d& a, __m256d& b, __m256 v) {
  a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  b = _mm256_add_pd(b, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

}  // namespace

float global_avg_plane_avx2(const float* x, int64_t hw) {
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= hw; i += 16) {
    widen_add(a0, a1, _mm256_loadu_ps(x + i));
    widen_add(a2, a3, _mm256_loadu_ps(x + i + 8));
  }
  if (i + 8 <= hw) {
    widen_add(a0, a1, _mm256_loadu_ps(x + i));
    i += 8;
  }
  if (i < hw) widen_add(a2, a3, _mm256_maskload_ps(x + i, lanes(hw - i)));
  const __m256d s4 = _mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  const double s = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
  return (float)(s / (double)hw);
}

void global_avg_fill_avx2(float* dx, float g, int64_t hw) {
  const __m256 v = _mm256_set1_ps(g);
  int64_t i = 0;
  for (; i + 8 <= hw; i += 8) _mm256_storeu_ps(dx + i, v);
  if (i < hw) _mm256_maskstore_ps(dx + i, lanes(hw - i), v);
}

}  // namespace mb
