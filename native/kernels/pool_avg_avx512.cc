// pool_avg_avx512.cc — average pooling of one plane with AVX-512, 16 floats a step (compiled with the
// AVX-512 flags only; called only when simd_level() == Avx512). The algorithm: pool_avg_impl.h.
#include <immintrin.h>

#include "pool_avg_impl.h"

namespace mb {

namespace {

struct V512 {
  static constexpr int64_t VL = 16;
  using T = __m512;
  static __mmask16 mask(int n) { return (__mmask16)((1u << n) - 1); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T set1(float f) { return _mm512_set1_ps(f); }
  static T loadn(const float* p, int n) { return n == 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask(n), p); }
  static void storen(float* p, T v, int n) {
    if (n == 16)
      _mm512_storeu_ps(p, v);
    else
      _mm512_mask_storeu_ps(p, mask(n), v);
  }
  // Even lanes of p[0 .. 32): two loads (masked to the 2n − 1 floats needed) and one permute.
  static T load2n(const float* p, int n) {
    const int m = 2 * n - 1;
    const __m512 lo = _mm512_maskz_loadu_ps(mask(std::min(m, 16)), p);
    const __m512 hi = m > 16 ? _mm512_maskz_loadu_ps(mask(m - 16), p + 16) : _mm512_setzero_ps();
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(lo, even, hi);
  }
  static void store2n(float* p, T v, int n) {
    const __m512i lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    storen(p, _mm512_permutex2var_ps(v, lo, v), std::min(2 * n, 16));
    if (n > 8) storen(p + 16, _mm512_permutex2var_ps(v, hi, v), 2 * n - 16);
  }
  static T gathern(const float* p, int64_t stride, int n) {
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32((int)stride));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask(n), idx, p, 4);
  }
};

}  // namespace

void avg_pool_forward_plane_avx512(float* y, const float* x, const Pool2dShape& p, float* buf, const float* fh,
                                   const float* fw) {
  avgpool::forward_plane<V512>(y, x, p, buf, fh, fw);
}

void avg_pool_backward_plane_avx512(float* dx, const float* dy, const Pool2dShape& p, float* buf, const float* fh,
                                    const float* fw) {
  avgpool::backward_plane<V512>(dx, dy, p, buf, fh, fw);
}

}  // namespace mb
