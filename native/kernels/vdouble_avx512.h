// vdouble_avx512.h — float-to-double widening and the horizontal sum of 8 doubles with AVX-512.
// Include only from *_avx512.cc. Written with the zero-masked forms (every lane set), which are the
// plain operations: GCC 12's headers for the unmasked _mm512_cvtps_pd, _mm512_extractf64x4_pd and
// _mm512_reduce_add_pd read an undefined pass-through value and warn at every use.
#pragma once

#include <immintrin.h>

namespace mb::avx512 {

// 8 floats as 8 doubles.
inline __m512d widen(__m256 v) { return _mm512_maskz_cvtps_pd(0xFF, v); }
// The low and the high 8 of 16 floats as doubles.
inline __m512d widen_lo(__m512 v) { return widen(_mm512_maskz_extractf32x8_ps(0xFF, v, 0)); }
inline __m512d widen_hi(__m512 v) { return widen(_mm512_maskz_extractf32x8_ps(0xFF, v, 1)); }

// v0 + ... + v7, as (v0 + v4) + (v2 + v6) + ((v1 + v5) + (v3 + v7)) in a fixed order.
inline double hsum(__m512d v) {
  const __m256d s4 = _mm256_add_pd(_mm512_maskz_extractf64x4_pd(0xF, v, 0), _mm512_maskz_extractf64x4_pd(0xF, v, 1));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
}

}  // namespace mb::avx512
