// norm_prims.h — what the BatchNorm and GroupNorm drivers share (private to native/kernels/norm*):
// the primitive table chosen once by SIMD level (AVX-512 forms of the run primitives, AVX2 for the
// rest), the thread and tile rules, and the statistics.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "cpu.h"
#include "norm.h"

namespace mb::norm_detail {

// Columns handled together when inner == 1 (BatchNorm1d, LayerNorm rows): the per-column
// coefficients and double sums live on the stack in arrays of this size.
constexpr int64_t kTile = 64;
// Below this many elements a call runs on one thread (a parallel region costs more than it saves:
// BatchNorm1d on (128, 256) takes about 15 us on one core).
constexpr int64_t kParallelMin = 1 << 16;
// GroupNorm groups whose channels are shorter than this use the per-element (column) primitives.
constexpr int64_t kShortInner = 32;

struct Prims {
  decltype(&norm_moments_runs) moments_runs;
  decltype(&norm_moments_cols) moments_cols;
  decltype(&norm_dot_runs) dot_runs;
  decltype(&norm_dot_cols) dot_cols;
  decltype(&norm_affine) affine;
  decltype(&norm_affine_cols) affine_cols;
  decltype(&norm_bwd) bwd;
  decltype(&norm_bwd_cols) bwd_cols;
  decltype(&norm_row_affine) row_affine;
  decltype(&norm_row_dot) row_dot;
  decltype(&norm_row_bwd) row_bwd;
  decltype(&norm_row_param) row_param;
};

inline const Prims& prims() {
#ifdef MB_HAVE_AVX2_TU
  static const Prims avx2{norm_moments_runs_avx2, norm_moments_cols_avx2, norm_dot_runs_avx2, norm_dot_cols_avx2,
                          norm_affine_avx2,       norm_affine_cols_avx2,  norm_bwd_avx2,      norm_bwd_cols_avx2,
                          norm_row_affine_avx2,   norm_row_dot_avx2,      norm_row_bwd_avx2,  norm_row_param_avx2};
#ifdef MB_HAVE_AVX512_TU
  static const Prims avx512{norm_moments_runs_avx512, norm_moments_cols_avx2, norm_dot_runs_avx512, norm_dot_cols_avx2,
                            norm_affine_avx512,       norm_affine_cols_avx2,  norm_bwd_avx512,      norm_bwd_cols_avx2,
                            norm_row_affine_avx2,     norm_row_dot_avx2,      norm_row_bwd_avx2,    norm_row_param_avx2};
  if (simd_level() == Simd::Avx512) return avx512;
#endif
  if (simd_level() >= Simd::Avx2) return avx2;
#endif
  static const Prims scalar{norm_moments_runs, norm_moments_cols, norm_dot_runs, norm_dot_cols,
                            norm_affine,       norm_affine_cols,  norm_bwd,      norm_bwd_cols,
                            norm_row_affine,   norm_row_dot,      norm_row_bwd,  norm_row_param};
  return scalar;
}

inline int threads_for(int64_t elements) { return elements < kParallelMin ? 1 : num_threads(); }

// Channels per tile for x[N, C, I] with I > 1: at most kTile, and few enough that every thread gets a
// tile. A thread walks its tile sample by sample, so it streams one contiguous run of w·I values per
// sample instead of N runs of I values C·I apart (those power-of-two strides defeat the prefetcher
// and map every run to the same cache sets). Per-channel sums do not depend on the tile width.
inline int64_t tile_width(int64_t c, int nt) { return std::min<int64_t>(kTile, std::max<int64_t>(1, (c + nt - 1) / nt)); }

// Runs body(j0, w) for the tiles [j0, j0 + w) of `count` channels, tw wide, over nt threads. A
// static schedule hands each thread whole tiles, so per-channel sums never race and are added in the
// same order whatever the thread count.
template <class Body>
inline void for_tiles(int64_t count, int64_t tw, int nt, Body&& body) {
  const int64_t tiles = (count + tw - 1) / tw;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t t = 0; t < tiles; t++) body(t * tw, std::min(tw, count - t * tw));
}

// The statistics every layer shares: from the shifted sums of `count` values to mean, biased
// variance and rstd. The mean is also returned as float hi + lo (hi = float(mean), lo = the rest)
// so the normalize pass can subtract it to better than float precision: (x - hi)·a + (b - lo·a).
struct Stats {
  double mean, var, rstd;
  float hi, lo;
};

inline Stats finish_stats(double s1, double s2, double count, float shift, float eps) {
  Stats s;
  const double d = s1 / count;  // mean of (x - shift)
  s.mean = (double)shift + d;
  s.var = std::max(0.0, s2 / count - d * d);
  s.rstd = 1.0 / std::sqrt(s.var + (double)eps);
  s.hi = (float)s.mean;
  s.lo = (float)(s.mean - (double)s.hi);
  return s;
}

// Adds a tile's per-channel sums to the parameter gradients (either may be null): channels j0 .. j0 + w.
inline void add_param_grads(float* dgamma, float* dbeta, const double* accg, const double* accb, int64_t j0,
                            int64_t w) {
  for (int64_t j = 0; j < w; j++) {
    if (dbeta) dbeta[j0 + j] += (float)accb[j];
    if (dgamma) dgamma[j0 + j] += (float)accg[j];
  }
}

}  // namespace mb::norm_detail
