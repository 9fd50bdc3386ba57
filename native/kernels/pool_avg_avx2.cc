// pool_avg_avx2.cc — average pooling of one plane with AVX2, 8 floats a step (compiled with the AVX2
// flags only; called only when simd_level() >= Avx2 and the AVX-512 form is not used). The
// algorithm: pool_avg_impl.h.
#include <immintrin.h>

#include "pool_avg_impl.h"

namespace mb {

namespace {

struct V256 {
  static constexpr int64_t VL = 8;
  using T = __m256;
  static __m256i mask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T set1(float f) { return _mm256_set1_ps(f); }
  static T loadn(const float* p, int n) { return n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask(n)); }
  static void storen(float* p, T v, int n) {
    if (n == 8)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, mask(n), v);
  }
  // Even lanes of p[0 .. 16): two loads (masked to the 2n − 1 floats needed), a shuffle and a
  // 64-bit lane permute.
  static T load2n(const float* p, int n) {
    const int m = 2 * n - 1;
    const __m256 a = _mm256_maskload_ps(p, mask(std::min(m, 8)));
    const __m256 b = m > 8 ? _mm256_maskload_ps(p + 8, mask(m - 8)) : _mm256_setzero_ps();
    const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));  // a0 a2 b0 b2 | a4 a6 b4 b6
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static void store2n(float* p, T v, int n) {
    storen(p, _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3)), std::min(2 * n, 8));
    if (n > 4) storen(p + 8, _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7)), 2 * n - 8);
  }
  static T gathern(const float* p, int64_t stride, int n) {
    const __m256i idx = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)stride));
    const __m256i m = mask(n);
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, idx, _mm256_castsi256_ps(m), 4);
  }
};

}  // namespace

void avg_pool_forward_plane_avx2(float* y, const float* x, const Pool2dShape& p, float* buf, const float* fh,
                                 const float* fw) {
  avgpool::forward_plane<V256>(y, x, p, buf, fh, fw);
}

void avg_pool_backward_plane_avx2(float* dx, const float* dy, const Pool2dShape& p, float* buf, const float* fh,
                                  const float* fw) {
  avgpool::backward_plane<V256>(dx, dy, p, buf, fh, fw);
}

}  // namespace mb
