// activations_avx2.cc — AVX2 + FMA elementwise activations (compiled with -mavx2 -mfma only).
//
// 8 floats per step with unaligned loads, a scalar tail, and optional non-temporal stores for huge
// outputs (the destination is first brought to 32-byte alignment with ordinary stores).
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "activations.h"
#include "vmath_avx2.h"

namespace mb {

namespace {

inline __m256 abs_ps(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
inline __m256 nan_through(__m256 y, __m256 x) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q)); }

// sigmoid: e = exp(-|x|); 1/(1+e) for x >= 0, e/(1+e) for x < 0. Exact division.
inline __m256 sigmoid_ps(__m256 x) {
  const __m256 e = vmath::exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), abs_ps(x)));
  const __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
  const __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  return nan_through(_mm256_blendv_ps(s, _mm256_mul_ps(e, s), neg), x);
}

// tanh: Cephes' odd polynomial x + x·z·P(z), z = x², for |x| < 0.625 (no cancellation near 0);
// (1 - e)/(1 + e) with e = exp(-2|x|) beyond, sign copied from x.
inline __m256 tanh_ps(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 ax = abs_ps(x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  const __m256 e = vmath::exp_ps(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 large = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
  large = _mm256_or_ps(large, _mm256_and_ps(x, sign));
  const __m256 is_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
  return nan_through(_mm256_blendv_ps(large, small, is_small), x);
}

inline __m256 elu_ps(__m256 x, __m256 alpha) {
  const __m256 neg = _mm256_mul_ps(alpha, vmath::expm1_ps(_mm256_min_ps(x, _mm256_setzero_ps())));
  const __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
  return nan_through(_mm256_blendv_ps(neg, x, pos), x);
}

template <class F>
inline void map1(float* y, const float* x, int64_t n, bool stream, F f, float (*tail)(float, float), float alpha) {
  int64_t i = 0;
  if (stream) {
    // Head with ordinary stores until y is 32-byte aligned, then streaming stores.
    while (i < n && (reinterpret_cast<uintptr_t>(y + i) & 31) != 0) {
      y[i] = tail(x[i], alpha);
      i++;
    }
    for (; i + 16 <= n; i += 16) {
      const __m256 a = f(_mm256_loadu_ps(x + i)), b = f(_mm256_loadu_ps(x + i + 8));
      _mm256_stream_ps(y + i, a);
      _mm256_stream_ps(y + i + 8, b);
    }
    _mm_sfence();
  } else {
    for (; i + 16 <= n; i += 16) {
      const __m256 a = f(_mm256_loadu_ps(x + i)), b = f(_mm256_loadu_ps(x + i + 8));
      _mm256_storeu_ps(y + i, a);
      _mm256_storeu_ps(y + i + 8, b);
    }
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  for (; i < n; i++) y[i] = tail(x[i], alpha);
}

// Scalar tails run the same vector code on one broadcast lane, so every element of an array gets
// bit-identical numerics whatever its position.
template <__m256 (*F)(__m256)>
float lane(float v, float) { return _mm256_cvtss_f32(F(_mm256_set1_ps(v))); }
float relu1(float v, float) { return v < 0.0f ? 0.0f : v; }
float leaky1(float v, float a) { return v > 0.0f ? v : a * v; }
float elu1(float v, float a) { return _mm256_cvtss_f32(elu_ps(_mm256_set1_ps(v), _mm256_set1_ps(a))); }

}  // namespace

void activation_forward_avx2(Act kind, float* y, const float* x, int64_t n, float alpha, bool stream) {
  const __m256 zero = _mm256_setzero_ps(), va = _mm256_set1_ps(alpha);
  switch (kind) {
    case Act::Relu:
      // max(0, x) returns x when x is NaN (the second operand wins on unordered).
      map1(y, x, n, stream, [&](__m256 v) { return _mm256_max_ps(zero, v); }, relu1, alpha);
      break;
    case Act::LeakyRelu:
      map1(y, x, n, stream,
           [&](__m256 v) { return _mm256_blendv_ps(_mm256_mul_ps(va, v), v, _mm256_cmp_ps(v, zero, _CMP_GT_OQ)); },
           leaky1, alpha);
      break;
    case Act::Elu:
      map1(y, x, n, stream, [&](__m256 v) { return elu_ps(v, va); }, elu1, alpha);
      break;
    case Act::Sigmoid:
      map1(y, x, n, stream, [](__m256 v) { return sigmoid_ps(v); }, lane<sigmoid_ps>, alpha);
      break;
    case Act::Tanh:
      map1(y, x, n, stream, [](__m256 v) { return tanh_ps(v); }, lane<tanh_ps>, alpha);
      break;
  }
}

void activation_backward_avx2(Act kind, float* dx, const float* x, const float* y, const float* dy, int64_t n,
                              float alpha) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), va = _mm256_set1_ps(alpha);
  int64_t i = 0;
  switch (kind) {
    case Act::Relu:
      for (; i + 8 <= n; i += 8) {
        const __m256 m = _mm256_cmp_ps(_mm256_loadu_ps(x + i), zero, _CMP_GT_OQ);
        _mm256_storeu_ps(dx + i, _mm256_and_ps(m, _mm256_loadu_ps(dy + i)));
      }
      for (; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
      break;
    case Act::LeakyRelu:
      for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(dy + i);
        const __m256 m = _mm256_cmp_ps(_mm256_loadu_ps(x + i), zero, _CMP_GT_OQ);
        _mm256_storeu_ps(dx + i, _mm256_blendv_ps(_mm256_mul_ps(va, g), g, m));
      }
      for (; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
      break;
    case Act::Elu:
      for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(dy + i);
        const __m256 m = _mm256_cmp_ps(_mm256_loadu_ps(x + i), zero, _CMP_GT_OQ);
        const __m256 neg = _mm256_mul_ps(g, _mm256_add_ps(_mm256_loadu_ps(y + i), va));
        _mm256_storeu_ps(dx + i, _mm256_blendv_ps(neg, g, m));
      }
      for (; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + alpha);
      break;
    case Act::Sigmoid:
      for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(y + i);
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), _mm256_mul_ps(v, _mm256_sub_ps(one, v))));
      }
      for (; i < n; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
      break;
    case Act::Tanh:
      for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(y + i);
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), _mm256_fnmadd_ps(v, v, one)));
      }
      for (; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
  }
}

}  // namespace mb
