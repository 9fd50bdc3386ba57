// cpu_avx512.cc — the AVX-512 FMA ceiling probe (compiled with the AVX-512 flags only; called only
// when simd_level() == Avx512). See cpu.h: fma_peak_gflops.
#include <immintrin.h>

#include <cstdint>

namespace mb {

// 16 independent zmm FMA chains (starting at seed, seed + 1/64, ...), `iters` times: 16 · 16 · 2 flops an iteration. Returns a value
// that depends on every chain, so nothing is optimised away.
float fma_chains_avx512(int64_t iters, float seed) {
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
  // Distinct starting values, so the compiler cannot merge chains.
  const __m512 d = _mm512_set1_ps(1.f / 64);
  __m512 c0 = _mm512_set1_ps(seed), c1 = _mm512_add_ps(c0, d), c2 = _mm512_add_ps(c1, d), c3 = _mm512_add_ps(c2, d);
  __m512 c4 = _mm512_add_ps(c3, d), c5 = _mm512_add_ps(c4, d), c6 = _mm512_add_ps(c5, d), c7 = _mm512_add_ps(c6, d);
  __m512 c8 = _mm512_add_ps(c7, d), c9 = _mm512_add_ps(c8, d), c10 = _mm512_add_ps(c9, d), c11 = _mm512_add_ps(c10, d);
  __m512 c12 = _mm512_add_ps(c11, d), c13 = _mm512_add_ps(c12, d), c14 = _mm512_add_ps(c13, d);
  __m512 c15 = _mm512_add_ps(c14, d);
  for (int64_t i = 0; i < iters; i++) {
    c0 = _mm512_fmadd_ps(c0, m, a); c1 = _mm512_fmadd_ps(c1, m, a); c2 = _mm512_fmadd_ps(c2, m, a);
    c3 = _mm512_fmadd_ps(c3, m, a); c4 = _mm512_fmadd_ps(c4, m, a); c5 = _mm512_fmadd_ps(c5, m, a);
    c6 = _mm512_fmadd_ps(c6, m, a); c7 = _mm512_fmadd_ps(c7, m, a); c8 = _mm512_fmadd_ps(c8, m, a);
    c9 = _mm512_fmadd_ps(c9, m, a); c10 = _mm512_fmadd_ps(c10, m, a); c11 = _mm512_fmadd_ps(c11, m, a);
    c12 = _mm512_fmadd_ps(c12, m, a); c13 = _mm512_fmadd_ps(c13, m, a); c14 = _mm512_fmadd_ps(c14, m, a);
    c15 = _mm512_fmadd_ps(c15, m, a);
  }
  const __m512 s = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                    _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7))),
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                    _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float t = 0.f;
  for (float v : lanes) t += v;
  return t;
}

}  // namespace mb
