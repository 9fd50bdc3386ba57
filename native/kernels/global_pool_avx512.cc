// global_pool_avx512.cc — one plane of global average pooling with AVX-512 (compiled with
// -mavx512f/vl/dq/bw -mfma only; called only when simd_level() == Avx512): the plane's floats
// widened to double (eight a conversion) and summed in four zmm accumulators, 32 a step, the last
// eight or fewer masked; the gradient fill 16 a step, the last step masked. Same contract as the
// scalar code in global_pool.cc. (widen and hsum: vdouble_avx512.h.)
#include <immintrin.h>

#include <cstdint>

#include "vdouble_avx512.h"

namespace mb {

using avx512::hsum;
using avx512::widen;

float global_avg_plane_avx512(const float* x, int64_t hw) {
  __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd(), a2 = _mm512_setzero_pd(), a3 = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + 32 <= hw; i += 32) {
    a0 = _mm512_add_pd(a0, widen(_mm256_loadu_ps(x + i)));
    a1 = _mm512_add_pd(a1, widen(_mm256_loadu_ps(x + i + 8)));
    a2 = _mm512_add_pd(a2, widen(_mm256_loadu_ps(x + i + 16)));
    a3 = _mm512_add_pd(a3, widen(_mm256_loadu_ps(x + i + 24)));
  }
  for (; i + 8 <= hw; i += 8) a0 = _mm512_add_pd(a0, widen(_mm256_loadu_ps(x + i)));
  if (i < hw) a1 = _mm512_add_pd(a1, widen(_mm256_maskz_loadu_ps((__mmask8)((1u << (hw - i)) - 1u), x + i)));
  const double s = hsum(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3)));
  return (float)(s / (double)hw);
}

void global_avg_fill_avx512(float* dx, float g, int64_t hw) {
  const __m512 v = _mm512_set1_ps(g);
  int64_t i = 0;
  for (; i + 16 <= hw; i += 16) _mm512_storeu_ps(dx + i, v);
  if (i < hw) _mm512_mask_storeu_ps(dx + i, (__mmask16)((1u << (hw - i)) - 1u), v);
}

}  // namespace mb
