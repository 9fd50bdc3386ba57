// stats_avx2.cc — AVX2 sums of squares for param_stats (compiled with -mavx2 -mfma alone; called
// only when simd_level() >= Simd::Avx2). Floats are widened to double before any arithmetic, so
// the result differs from the scalar loop only in the order of the double additions.
#include <immintrin.h>

#include "stats.h"

namespace mb {

double sum_sq_avx2(const float* a, const float* b, int64_t n) {
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(a + i));
    __m256d hi = _mm256_cvtps_pd(_mm_loadu_ps(a + i + 4));
    if (b) {
      lo = _mm256_sub_pd(lo, _mm256_cvtps_pd(_mm_loadu_ps(b + i)));
      hi = _mm256_sub_pd(hi, _mm256_cvtps_pd(_mm_loadu_ps(b + i + 4)));
    }
    acc0 = _mm256_fmadd_pd(lo, lo, acc0);
    acc1 = _mm256_fmadd_pd(hi, hi, acc1);
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  double s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; i++) {
    const double d = b ? (double)a[i] - b[i] : (double)a[i];
    s += d * d;
  }
  return s;
}

}  // namespace mb
