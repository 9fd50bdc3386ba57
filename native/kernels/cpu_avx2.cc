// cpu_avx2.cc — the AVX2 + FMA ceiling probe (compiled with -mavx2 -mfma only; called only when
// simd_level() == Avx2). See cpu.h: fma_peak_gflops.
#include <immintrin.h>

#include <cstdint>

namespace mb {

// 12 independent ymm FMA chains (starting at seed, seed + 1/64, ...), `iters` times: 12 · 8 · 2 flops an iteration.
float fma_chains_avx2(int64_t iters, float seed) {
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  // Distinct starting values, so the compiler cannot merge chains.
  const __m256 d = _mm256_set1_ps(1.f / 64);
  __m256 c0 = _mm256_set1_ps(seed), c1 = _mm256_add_ps(c0, d), c2 = _mm256_add_ps(c1, d), c3 = _mm256_add_ps(c2, d);
  __m256 c4 = _mm256_add_ps(c3, d), c5 = _mm256_add_ps(c4, d), c6 = _mm256_add_ps(c5, d), c7 = _mm256_add_ps(c6, d);
  __m256 c8 = _mm256_add_ps(c7, d), c9 = _mm256_add_ps(c8, d), c10 = _mm256_add_ps(c9, d), c11 = _mm256_add_ps(c10, d);
  for (int64_t i = 0; i < iters; i++) {
    c0 = _mm256_fmadd_ps(c0, m, a); c1 = _mm256_fmadd_ps(c1, m, a); c2 = _mm256_fmadd_ps(c2, m, a);
    c3 = _mm256_fmadd_ps(c3, m, a); c4 = _mm256_fmadd_ps(c4, m, a); c5 = _mm256_fmadd_ps(c5, m, a);
    c6 = _mm256_fmadd_ps(c6, m, a); c7 = _mm256_fmadd_ps(c7, m, a); c8 = _mm256_fmadd_ps(c8, m, a);
    c9 = _mm256_fmadd_ps(c9, m, a); c10 = _mm256_fmadd_ps(c10, m, a); c11 = _mm256_fmadd_ps(c11, m, a);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                           _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
  const __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  return _mm_cvtss_f32(_mm_add_ps(h, _mm_movehl_ps(h, h)));
}

}  // namespace mb
