// conv_direct_dw_avx2.cc — the direct weight-gradient tile with AVX2 + FMA (compiled with those flags
// only; called only when simd_level() >= Avx2 and the AVX-512 tile is not used): up to 4 output
// channels × 3 reduction indices, 12 ymm accumulators over 8 output columns each; per step, the 4 dy
// vectors streamed past the 3 image vectors (a masked load for the last vector of a run, zero past
// it). Contract: DwTile in conv_direct_dw.h.
#include <immintrin.h>

#include <utility>

#include "conv_direct_dw.h"

namespace mb {

namespace {

// Every accumulator is named by a constant index (fold expressions over integer sequences, never a
// loop counter): GCC then keeps the array in registers; indexed by a loop it stays in memory and is
// stored back on every step.
#define MB_INLINE inline __attribute__((always_inline))

using Vec = __m256;
constexpr int MR = 4, KB = 3, VL = 8;

// The sum of the 8 lanes, halves added pairwise (as the reference tile adds its lanes).
MB_INLINE float hsum(__m256 v) {
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  a = _mm_add_ss(a, _mm_movehdup_ps(a));
  return _mm_cvtss_f32(a);
}

template <int... q>
MB_INLINE void zero_all(Vec* acc, std::integer_sequence<int, q...>) {
  ((acc[q] = _mm256_setzero_ps()), ...);
}

// dw[r·ldw + j] (+)= the lane sum of acc[r·J + j], for every q = r·J + j.
template <int J, int... q>
MB_INLINE void reduce_all(const DwTile& t, const Vec* acc, std::integer_sequence<int, q...>) {
  float* o[] = {(t.dw + (q / J) * t.ldw + q % J)...};
  const float v[] = {hsum(acc[q])...};
  for (int i = 0; i < (int)sizeof...(q); i++) *o[i] = t.accumulate ? *o[i] + v[i] : v[i];
}

// acc[r·J + j] += dv · xv[j] for every j (row r of the tile).
template <int R, int J, int r, int... j>
MB_INLINE void fma_row(Vec* acc, Vec dv, const Vec* xv, std::integer_sequence<int, j...>) {
  ((acc[r * J + j] = _mm256_fmadd_ps(dv, xv[j], acc[r * J + j])), ...);
}

// One step at column l: the J image vectors loaded once, each dy vector used against them. Masked
// (lanes past the run zero) only for the last vector of a run: maskload is slower than loadu.
template <bool Masked, int R, int J, int... r>
MB_INLINE void step(Vec* acc, const float* d, int64_t P, const float* const* xr, int64_t l, __m256i m,
                    std::integer_sequence<int, r...>) {
  auto ld = [m](const float* p) { return Masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p); };
  Vec xv[J];
  for (int j = 0; j < J; j++) xv[j] = ld(xr[j] + l);
  (fma_row<R, J, r>(acc, ld(d + r * P + l), xv, std::make_integer_sequence<int, J>{}), ...);
}

// R channels × J reduction indices (the full tile is 4 × 3; edge tiles are instantiated smaller so
// that no accumulator does dead work).
template <int R, int J>
void tile(const DwTile& t) {
  const int64_t P = t.oh * t.ow, full = t.ow / VL * VL;
  const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(t.ow - full)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  Vec acc[R * J];
  zero_all(acc, std::make_integer_sequence<int, R * J>{});
  for (int s = 0; s < t.ns; s++)
    for (int64_t i = 0; i < t.oh; i++) {
      const float* d = t.dy + s * t.dys + i * t.ow;
      const float* xr[J];
      for (int j = 0; j < J; j++) xr[j] = t.x + s * t.xs + t.off[j] + i * t.rs;
      int64_t l = 0;
      for (; l < full; l += VL) step<false, R, J>(acc, d, P, xr, l, m, std::make_integer_sequence<int, R>{});
      if (l < t.ow) step<true, R, J>(acc, d, P, xr, l, m, std::make_integer_sequence<int, R>{});
    }
  reduce_all<J>(t, acc, std::make_integer_sequence<int, R * J>{});
}

using Fn = void (*)(const DwTile&);

template <int R, int... Js>
void fill_row(Fn* row, std::integer_sequence<int, Js...>) {
  ((row[Js] = tile<R, Js + 1>), ...);
}

struct Table {
  Fn fn[MR][KB];
  Table() : fn{} {
    fill_row<1>(fn[0], std::make_integer_sequence<int, KB>{});
    fill_row<2>(fn[1], std::make_integer_sequence<int, KB>{});
    fill_row<3>(fn[2], std::make_integer_sequence<int, KB>{});
    fill_row<4>(fn[3], std::make_integer_sequence<int, KB>{});
  }
};

}  // namespace

void conv_dw_tile_avx2(const DwTile& t) {
  static const Table table;
  table.fn[t.rows - 1][t.kb - 1](t);
}

}  // namespace mb
