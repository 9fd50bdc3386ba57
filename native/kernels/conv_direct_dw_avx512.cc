// conv_direct_dw_avx512.cc — the direct weight-gradient tile with AVX-512 (compiled with the AVX-512
// flags only; called only when simd_level() == Avx512): up to 4 output channels × 6 reduction
// indices, 24 zmm accumulators over 16 output columns each; per step, the 4 dy vectors kept in
// registers and the 6 image vectors streamed past them (24 + 4 + 1 of the 32 zmm). The last vector
// of a run (a row, or a whole plane) is a masked load (zero past it), which costs what a plain one does.
// Contract: DwTile in conv_direct_dw.h.
#include <immintrin.h>

#include <utility>

#include "conv_direct_dw.h"

namespace mb {

namespace {

// Every accumulator is named by a constant index (fold expressions over integer sequences, never a
// loop counter): GCC then keeps the array in registers; indexed by a loop it stays in memory and is
// stored back on every step.
#define MB_INLINE inline __attribute__((always_inline))

using Vec = __m512;
constexpr int MR = 4, KB = 6, VL = 16;

// The sum of the 16 lanes, halves added pairwise (the maskz extracts: the plain ones trip GCC 12's
// uninitialized warning on their undefined pass-through operand).
MB_INLINE float hsum(__m512 v) {
  const __m256 q = _mm256_add_ps(_mm512_maskz_extractf32x8_ps(0xFF, v, 0), _mm512_maskz_extractf32x8_ps(0xFF, v, 1));
  __m128 a = _mm_add_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1));
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  a = _mm_add_ss(a, _mm_movehdup_ps(a));
  return _mm_cvtss_f32(a);
}

template <int... q>
MB_INLINE void zero_all(Vec* acc, std::integer_sequence<int, q...>) {
  ((acc[q] = _mm512_setzero_ps()), ...);
}

// dw[r·ldw + j] (+)= the lane sum of acc[r·J + j], for every q = r·J + j.
template <int J, int... q>
MB_INLINE void reduce_all(const DwTile& t, const Vec* acc, std::integer_sequence<int, q...>) {
  float* o[] = {(t.dw + (q / J) * t.ldw + q % J)...};
  const float v[] = {hsum(acc[q])...};
  for (int i = 0; i < (int)sizeof...(q); i++) *o[i] = t.accumulate ? *o[i] + v[i] : v[i];
}

// acc[r·J + j] += dv[r] · xv for every r (column j of the tile).
template <int R, int J, int j, int... r>
MB_INLINE void fma_col(Vec* acc, const Vec* dv, Vec xv, std::integer_sequence<int, r...>) {
  ((acc[r * J + j] = _mm512_fmadd_ps(dv[r], xv, acc[r * J + j])), ...);
}

// One step at column l: each image vector loaded once and used against the R dy vectors.
template <int R, int J, int... j>
MB_INLINE void step(Vec* acc, const Vec* dv, const float* const* xr, int64_t l, __mmask16 m,
                    std::integer_sequence<int, j...>) {
  (fma_col<R, J, j>(acc, dv, _mm512_maskz_loadu_ps(m, xr[j] + l), std::make_integer_sequence<int, R>{}), ...);
}

// R channels × J reduction indices (the full tile is 4 × 6; edge tiles are instantiated smaller so
// that no accumulator does dead work).
template <int R, int J>
void tile(const DwTile& t) {
  const int64_t P = t.oh * t.ow, full = t.ow / VL * VL;
  const __mmask16 tail = (__mmask16)((1u << (t.ow - full)) - 1);
  Vec acc[R * J];
  zero_all(acc, std::make_integer_sequence<int, R * J>{});
  for (int s = 0; s < t.ns; s++)
    for (int64_t i = 0; i < t.oh; i++) {
      const float* d = t.dy + s * t.dys + i * t.ow;
      const float* xr[J];
      for (int j = 0; j < J; j++) xr[j] = t.x + s * t.xs + t.off[j] + i * t.rs;
      for (int64_t l = 0; l < t.ow; l += VL) {
        const __mmask16 m = l < full ? (__mmask16)0xFFFF : tail;
        Vec dv[R];
        for (int r = 0; r < R; r++) dv[r] = _mm512_maskz_loadu_ps(m, d + r * P + l);
        step<R, J>(acc, dv, xr, l, m, std::make_integer_sequence<int, J>{});
      }
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

void conv_dw_tile_avx512(const DwTile& t) {
  static const Table table;
  table.fn[t.rows - 1][t.kb - 1](t);
}

}  // namespace mb
