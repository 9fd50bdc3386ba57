// conv_direct_avx512.cc — the direct convolution tile with AVX-512 (compiled with the AVX-512 flags
// only; called only when simd_level() == Avx512): 8 output channels × up to 3 vectors of 16 output
// columns, 24 zmm accumulators started from the bias; per step of k, 3 loads from the padded image
// and 8 weights broadcast from the packed panel. Contract: DirectTile in conv_direct.h.
#include <immintrin.h>

#include "conv_direct.h"

namespace mb {

namespace {

// max(a, b) where a NaN in either wins (max pooling's rule) in three instructions: the plain max,
// then a + b (a NaN) in the lanes where the pair is unordered. (vrangeps cannot do it: it treats a
// quiet NaN as missing data.) vmaxps returns b unless a > b, so ordered pairs, signed zeros
// included, give what "a where a > b or a is NaN, else b" gives.
inline __m512 nanmax(__m512 a, __m512 b) {
  return _mm512_mask_add_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q), a, b);
}

// The pooled store of a 2-vector tile (see DirectTile): rows 0 and 1, then lanes 2l and 2l + 1.
inline void store_pooled(const DirectTile& t, const __m512 (*acc)[2]) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __mmask16 m = (__mmask16)((1u << (t.lanes[0] / 2)) - 1);
  const __m512 zero = _mm512_setzero_ps();
  for (int r = 0; r < t.rows; r++) {
    const __m512 v = nanmax(acc[r][0], acc[r][1]);
    __m512 o = nanmax(_mm512_permutex2var_ps(v, even, v), _mm512_permutex2var_ps(v, odd, v));
    if (t.relu) o = _mm512_max_ps(zero, o);  // the ReLU below
    _mm512_mask_storeu_ps(t.yb[0] + r * t.ystride, m, o);
  }
}

template <int NV>
void tile(const DirectTile& t) {
  constexpr int MR = 8;
  __m512 acc[MR][NV];
  for (int r = 0; r < MR; r++) {
    const __m512 b = _mm512_set1_ps(t.bias && r < t.rows ? t.bias[r] : 0.f);
    for (int v = 0; v < NV; v++) acc[r][v] = b;
  }
  const float* xb[NV];
  for (int v = 0; v < NV; v++) xb[v] = t.xb[v];
  const float* a = t.ap;
  for (int64_t k = 0; k < t.k; k++, a += MR) {
    const int64_t o = t.off[k];
    __m512 b[NV];
    for (int v = 0; v < NV; v++) b[v] = _mm512_loadu_ps(xb[v] + o);
    for (int r = 0; r < MR; r++) {
      const __m512 w = _mm512_set1_ps(a[r]);
      for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(w, b[v], acc[r][v]);
    }
  }
  if constexpr (NV == 2) {
    if (t.pool) return store_pooled(t, acc);
  }
  const __m512 zero = _mm512_setzero_ps();
  for (int v = 0; v < NV; v++) {
    const __mmask16 m = (__mmask16)((1u << t.lanes[v]) - 1);
    for (int r = 0; r < MR; r++) {
      if (r >= t.rows) break;
      // ReLU: max(0, x) is "0 where 0 > x, else x" (vmaxps returns its second operand unless the
      // first is greater): a NaN stays NaN and −0 stays −0, as the scalar reference's x < 0 test
      const __m512 o = t.relu ? _mm512_max_ps(zero, acc[r][v]) : acc[r][v];
      _mm512_mask_storeu_ps(t.yb[v] + r * t.ystride, m, o);
    }
  }
}

}  // namespace

void conv_direct_tile_avx512(const DirectTile& t) {
  if (t.nv == 3) return tile<3>(t);
  if (t.nv == 2) return tile<2>(t);
  tile<1>(t);
}

}  // namespace mb
