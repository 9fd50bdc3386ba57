// vmath_avx2.h — vectorized exp and expm1 for 8 floats (AVX2 + FMA). Include only from *_avx2.cc.
//
// Both use Cephes-style range reduction x = n·ln2 + r, |r| <= ln2/2 (ln2 split in a short high part,
// exact in n·hi for |n| < 2^15, and a low part), and Cephes' minimax polynomial
//   expm1(r) ≈ r + r²·P(r),  P of degree 5,
// which is good to about 1 ulp on that interval. No reciprocal approximations anywhere.
//
//   exp(x)   = 2^n · (1 + expm1(r)); 2^n is applied as two factors 2^(n/2)·2^(n-n/2), so results in
//              the denormal range are rounded once (gradual underflow) and exp(88.72) does not
//              overflow in the scaling. exp(x) = 0 below -104 (under half the smallest denormal)
//              and +inf above 88.7228.
//   expm1(x) = 2^n·expm1(r) + (2^n - 1) with one fused multiply-add; n = 0 for |x| < ln2/2, so
//              small arguments keep full relative precision (expm1(1e-30) = 1e-30, denormals too).
//              -1 below -88 (float can't tell), +inf above 88.7228.
// NaN inputs give NaN.
#pragma once

#include <immintrin.h>

namespace mb::vmath {

static inline __m256 expm1_poly(__m256 r) {
  // Cephes expf coefficients: exp(r) = 1 + r + r²·P(r).
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 r2 = _mm256_mul_ps(r, r);
  return _mm256_fmadd_ps(p, r2, r);
}

// Splits clamped x into n (as float, integral) and r.
static inline __m256 reduce(__m256 x, __m256* n_out) {
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  *n_out = n;
  return r;
}

// 2^k for integral k in [-126, 127] given as float.
static inline __m256 pow2i(__m256 k) {
  const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127));
  return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

static inline __m256 exp_ps(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.7228317f), lo = _mm256_set1_ps(-104.0f);
  // min/max return the second operand when one is NaN: the clamp keeps NaN lanes out of the
  // integer math, and they are restored at the end.
  const __m256 xc = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
  __m256 n;
  const __m256 r = reduce(xc, &n);
  const __m256 p = _mm256_add_ps(expm1_poly(r), _mm256_set1_ps(1.0f));
  const __m256 n1 = _mm256_round_ps(_mm256_mul_ps(n, _mm256_set1_ps(0.5f)), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  const __m256 n2 = _mm256_sub_ps(n, n1);
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, pow2i(n1)), pow2i(n2));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

static inline __m256 expm1_ps(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.7228317f), lo = _mm256_set1_ps(-88.0f);
  const __m256 xc = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
  __m256 n;
  const __m256 r = reduce(xc, &n);
  const __m256 p = expm1_poly(r);
  // n <= 128; 2^128 is not a float, so scale by 2^(n-1) and double at the end for that lane only.
  const __m256 big = _mm256_cmp_ps(n, _mm256_set1_ps(127.0f), _CMP_GT_OQ);
  const __m256 nn = _mm256_sub_ps(n, _mm256_and_ps(big, _mm256_set1_ps(1.0f)));
  const __m256 s = pow2i(nn);
  __m256 y = _mm256_fmadd_ps(s, p, _mm256_sub_ps(s, _mm256_set1_ps(1.0f)));
  y = _mm256_blendv_ps(y, _mm256_add_ps(_mm256_add_ps(y, y), _mm256_set1_ps(1.0f)), big);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
  y = _mm256_blendv_ps(y, _mm256_set1_ps(-1.0f), _mm256_cmp_ps(x, lo, _CMP_LT_OQ));
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

}  // namespace mb::vmath
