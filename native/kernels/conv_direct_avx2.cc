// conv_direct_avx2.cc — the direct convolution tile with AVX2 + FMA (compiled with those flags only;
// called only when simd_level() >= Avx2 and the AVX-512 tile is not used): 4 output channels × up
// to 3 vectors of 8 output columns, 12 ymm accumulators started from the bias. Contract:
// DirectTile in conv_direct.h.
#include <immintrin.h>

#include "conv_direct.h"

namespace mb {

namespace {

// max(a, b) where a NaN in either wins (vmaxps alone returns b when a is NaN).
inline __m256 nanmax(__m256 a, __m256 b) { return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)); }

// The pooled store of a 2-vector tile (see DirectTile): rows 0 and 1, then lanes 2l and 2l + 1.
inline void store_pooled(const DirectTile& t, const __m256 (*acc)[2]) {
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6), odd = _mm256_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7);
  const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(t.lanes[0] / 2), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256 zero = _mm256_setzero_ps();
  for (int r = 0; r < t.rows; r++) {
    const __m256 v = nanmax(acc[r][0], acc[r][1]);
    __m256 o = nanmax(_mm256_permutevar8x32_ps(v, even), _mm256_permutevar8x32_ps(v, odd));
    if (t.relu) o = _mm256_max_ps(zero, o);  // NaN and −0 kept, as below
    _mm256_maskstore_ps(t.yb[0] + r * t.ystride, m, o);
  }
}

template <int NV>
void tile(const DirectTile& t) {
  constexpr int MR = 4;
  __m256 acc[MR][NV];
  for (int r = 0; r < MR; r++) {
    const __m256 b = _mm256_set1_ps(t.bias && r < t.rows ? t.bias[r] : 0.f);
    for (int v = 0; v < NV; v++) acc[r][v] = b;
  }
  const float* xb[NV];
  for (int v = 0; v < NV; v++) xb[v] = t.xb[v];
  const float* a = t.ap;
  for (int64_t k = 0; k < t.k; k++, a += MR) {
    const int64_t o = t.off[k];
    __m256 b[NV];
    for (int v = 0; v < NV; v++) b[v] = _mm256_loadu_ps(xb[v] + o);
    for (int r = 0; r < MR; r++) {
      const __m256 w = _mm256_set1_ps(a[r]);  // a value load: _mm256_broadcast_ss(a + r) made GCC keep acc in memory
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(w, b[v], acc[r][v]);
    }
  }
  if constexpr (NV == 2) {
    if (t.pool) return store_pooled(t, acc);
  }
  const __m256 zero = _mm256_setzero_ps();
  for (int v = 0; v < NV; v++) {
    const int n = t.lanes[v];
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
    for (int r = 0; r < MR; r++) {
      if (r >= t.rows) break;
      const __m256 o = t.relu ? _mm256_max_ps(zero, acc[r][v]) : acc[r][v];
      float* dst = t.yb[v] + r * t.ystride;
      if (n == 8) {
        _mm256_storeu_ps(dst, o);
      } else {
        _mm256_maskstore_ps(dst, m, o);
      }
    }
  }
}

}  // namespace

void conv_direct_tile_avx2(const DirectTile& t) {
  if (t.nv == 3) return tile<3>(t);
  if (t.nv == 2) return tile<2>(t);
  tile<1>(t);
}

}  // namespace mb
