// norm.cc — BatchNorm and GroupNorm drivers (parallel split, statistics, coefficients) over a
// handful of primitives that have a scalar form here and an AVX2 form in norm_avx2.cc.
// See norm.h for the numerics and the legend.
#include "norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

namespace {

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

const Prims& prims() {
#ifdef MB_HAVE_AVX2_TU
  static const Prims avx2{norm_moments_runs_avx2, norm_moments_cols_avx2, norm_dot_runs_avx2, norm_dot_cols_avx2,
                          norm_affine_avx2,       norm_affine_cols_avx2,  norm_bwd_avx2,      norm_bwd_cols_avx2,
                          norm_row_affine_avx2,   norm_row_dot_avx2,      norm_row_bwd_avx2,  norm_row_param_avx2};
  if (simd_level() >= Simd::Avx2) return avx2;
#endif
  static const Prims scalar{norm_moments_runs, norm_moments_cols, norm_dot_runs, norm_dot_cols,
                            norm_affine,       norm_affine_cols,  norm_bwd,      norm_bwd_cols,
                            norm_row_affine,   norm_row_dot,      norm_row_bwd,  norm_row_param};
  return scalar;
}

int threads_for(int64_t elements) { return elements < kParallelMin ? 1 : num_threads(); }

// Channels per tile for x[N, C, I] with I > 1: at most kTile, and few enough that every thread gets a
// tile. A thread walks its tile sample by sample, so it streams one contiguous run of w·I values per
// sample instead of N runs of I values C·I apart (those power-of-two strides defeat the prefetcher
// and map every run to the same cache sets). Per-channel sums do not depend on the tile width.
int64_t tile_width(int64_t c, int nt) { return std::min<int64_t>(kTile, std::max<int64_t>(1, (c + nt - 1) / nt)); }

// The statistics every layer shares: from the shifted sums of `count` values to mean, biased
// variance and rstd. The mean is also returned as float hi + lo (hi = float(mean), lo = the rest)
// so the normalize pass can subtract it to better than float precision: (x - hi)·a + (b - lo·a).
struct Stats {
  double mean, var, rstd;
  float hi, lo;
};

Stats finish_stats(double s1, double s2, double count, float shift, float eps) {
  Stats s;
  const double d = s1 / count;  // mean of (x - shift)
  s.mean = (double)shift + d;
  s.var = std::max(0.0, s2 / count - d * d);
  s.rstd = 1.0 / std::sqrt(s.var + (double)eps);
  s.hi = (float)s.mean;
  s.lo = (float)(s.mean - (double)s.hi);
  return s;
}

}  // namespace

// ================================================================================ BatchNorm

void batch_norm_forward(float* y, float* mean, float* var, float* rstd, const float* x, const float* gamma,
                        const float* beta, int64_t n, int64_t c, int64_t inner, float eps) {
  const Prims& P = prims();
  const int nt = threads_for(n * c * inner);
  (void)nt;  // unused without OpenMP
  const double count = (double)(n * inner);
  if (inner == 1) {
    // x is [n, c]: each thread owns tiles of kTile columns and walks all rows (contiguous per row).
    const int64_t tiles = (c + kTile - 1) / kTile;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (int64_t t = 0; t < tiles; t++) {
      const int64_t j0 = t * kTile, w = std::min(kTile, c - j0);
      float shift[kTile], m[kTile], a[kTile], b[kTile];
      double s1[kTile] = {0}, s2[kTile] = {0};
      for (int64_t j = 0; j < w; j++) shift[j] = x[j0 + j];
      P.moments_cols(s1, s2, x + j0, n, w, c, shift);
      for (int64_t j = 0; j < w; j++) {
        const Stats s = finish_stats(s1[j], s2[j], count, shift[j], eps);
        mean[j0 + j] = s.hi;
        var[j0 + j] = (float)s.var;
        rstd[j0 + j] = (float)s.rstd;
        a[j] = (float)(s.rstd * (gamma ? gamma[j0 + j] : 1.f));
        b[j] = (beta ? beta[j0 + j] : 0.f) - s.lo * a[j];
        m[j] = s.hi;
      }
      P.affine_cols(y + j0, x + j0, n, w, c, m, a, b);
    }
    return;
  }
  // x is [n, c, inner]: channel ch is n runs of inner contiguous values, c·inner apart. Tiles of
  // channels: a statistics sweep, then a normalize sweep, each sample by sample.
  const int64_t tw = tile_width(c, nt), tiles = (c + tw - 1) / tw;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t t = 0; t < tiles; t++) {
    const int64_t j0 = t * tw, w = std::min(tw, c - j0);
    float shift[kTile], m[kTile], a[kTile], b[kTile];
    double s1[kTile] = {0}, s2[kTile] = {0};
    for (int64_t j = 0; j < w; j++) shift[j] = x[(j0 + j) * inner];
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < w; j++) {
        double p1, p2;
        P.moments_runs(&p1, &p2, x + (i * c + j0 + j) * inner, 1, inner, inner, shift[j]);
        s1[j] += p1;
        s2[j] += p2;
      }
    for (int64_t j = 0; j < w; j++) {
      const Stats s = finish_stats(s1[j], s2[j], count, shift[j], eps);
      mean[j0 + j] = s.hi;
      var[j0 + j] = (float)s.var;
      rstd[j0 + j] = (float)s.rstd;
      a[j] = (float)(s.rstd * (gamma ? gamma[j0 + j] : 1.f));
      b[j] = (beta ? beta[j0 + j] : 0.f) - s.lo * a[j];
      m[j] = s.hi;
    }
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < w; j++) {
        const int64_t off = (i * c + j0 + j) * inner;
        P.affine(y + off, x + off, inner, m[j], a[j], b[j]);
      }
  }
}

void batch_norm_inference(float* y, const float* x, const float* running_mean, const float* running_var,
                          const float* gamma, const float* beta, int64_t n, int64_t c, int64_t inner, float eps) {
  const Prims& P = prims();
  const int nt = threads_for(n * c * inner);
  (void)nt;  // unused without OpenMP
  auto coef = [&](int64_t ch) { return (float)((gamma ? gamma[ch] : 1.f) / std::sqrt((double)running_var[ch] + eps)); };
  if (inner == 1) {
    const int64_t tiles = (c + kTile - 1) / kTile;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (int64_t t = 0; t < tiles; t++) {
      const int64_t j0 = t * kTile, w = std::min(kTile, c - j0);
      float a[kTile], b[kTile];
      for (int64_t j = 0; j < w; j++) {
        a[j] = coef(j0 + j);
        b[j] = beta ? beta[j0 + j] : 0.f;
      }
      P.affine_cols(y + j0, x + j0, n, w, c, running_mean + j0, a, b);
    }
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for collapse(2) schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t i = 0; i < n; i++)
    for (int64_t ch = 0; ch < c; ch++) {
      const int64_t off = (i * c + ch) * inner;
      P.affine(y + off, x + off, inner, running_mean[ch], coef(ch), beta ? beta[ch] : 0.f);
    }
}

// Backward, per channel with m = N·I values, x̂ = (x - mean)·rstd, y = γ·x̂ + β:
//   dβ = Σ dy,   dγ = Σ dy·x̂ = rstd · Σ dy·(x - mean)
//   dx = rstd · (γ·dy − mean(γ·dy) − x̂ · mean(γ·dy·x̂))
//        (the first term is the direct path through x̂; the second comes through the mean, which
//         every x shifts by 1/m; the third through rstd: ∂rstd/∂x_i = −rstd³·(x_i − mean)/m)
//      = k1·dy + k2·(x − mean) + k3 with
//        k1 = γ·rstd,  k2 = −γ·rstd³·Σdy·(x − mean)/m,  k3 = −γ·rstd·Σdy/m.
// The mean arrives rounded to float32; the same reduction pass measures δ = Σ(x − mean_f)/m, the
// distance to the exact mean, and the sums are re-centred on mean_f + δ (Σdy·(x − mean) =
// Σdy·(x − mean_f) − δ·Σdy, and x − mean = (x − mean_f) − δ folds into k3), so a channel with
// |mean| >> std keeps Σdx = 0 and Σdx·x̂ = 0.
void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                         const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t inner) {
  const Prims& P = prims();
  const int nt = threads_for(n * c * inner);
  (void)nt;  // unused without OpenMP
  const double count = (double)(n * inner);
  if (inner == 1) {
    const int64_t tiles = (c + kTile - 1) / kTile;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (int64_t t = 0; t < tiles; t++) {
      const int64_t j0 = t * kTile, w = std::min(kTile, c - j0);
      double sdy[kTile] = {0}, sdyx[kTile] = {0}, sx[kTile] = {0};
      float k1[kTile], k2[kTile], k3[kTile];
      P.dot_cols(sdy, sdyx, sx, dy + j0, x + j0, n, w, c, mean + j0);
      for (int64_t j = 0; j < w; j++) {
        const double r = rstd[j0 + j], g = gamma ? gamma[j0 + j] : 1.f;
        const double delta = sx[j] / count, sdyxc = sdyx[j] - delta * sdy[j];
        if (dbeta) dbeta[j0 + j] += (float)sdy[j];
        if (dgamma) dgamma[j0 + j] += (float)(r * sdyxc);
        const double kk2 = -g * r * r * r * sdyxc / count;
        k1[j] = (float)(g * r);
        k2[j] = (float)kk2;
        k3[j] = (float)(-g * r * sdy[j] / count - kk2 * delta);
      }
      P.bwd_cols(dx + j0, dy + j0, x + j0, n, w, c, mean + j0, k1, k2, k3);
    }
    return;
  }
  // Tiles of channels, sample by sample (see tile_width): a reduction sweep, then the dx sweep.
  const int64_t tw = tile_width(c, nt), tiles = (c + tw - 1) / tw;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t t = 0; t < tiles; t++) {
    const int64_t j0 = t * tw, w = std::min(tw, c - j0);
    double sdy[kTile] = {0}, sdyx[kTile] = {0}, sx[kTile] = {0};
    float k1[kTile], k2[kTile], k3[kTile];
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < w; j++) {
        const int64_t off = (i * c + j0 + j) * inner;
        double a, q, e;
        P.dot_runs(&a, &q, &e, dy + off, x + off, 1, inner, inner, mean[j0 + j]);
        sdy[j] += a;
        sdyx[j] += q;
        sx[j] += e;
      }
    for (int64_t j = 0; j < w; j++) {
      const double r = rstd[j0 + j], g = gamma ? gamma[j0 + j] : 1.f;
      const double delta = sx[j] / count, sdyxc = sdyx[j] - delta * sdy[j];
      if (dbeta) dbeta[j0 + j] += (float)sdy[j];
      if (dgamma) dgamma[j0 + j] += (float)(r * sdyxc);
      const double kk2 = -g * r * r * r * sdyxc / count;
      k1[j] = (float)(g * r);
      k2[j] = (float)kk2;
      k3[j] = (float)(-g * r * sdy[j] / count - kk2 * delta);
    }
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < w; j++) {
        const int64_t off = (i * c + j0 + j) * inner;
        P.bwd(dx + off, dy + off, x + off, inner, mean[j0 + j], k1[j], k2[j], k3[j]);
      }
  }
}

// ================================================================================ GroupNorm
// Group (i, g) is one contiguous run of CG·I values starting at x + (i·C + g·CG)·I.

void group_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                        int64_t n, int64_t c, int64_t inner, int64_t groups, float eps) {
  const Prims& P = prims();
  const int nt = threads_for(n * c * inner);
  (void)nt;  // unused without OpenMP
  const int64_t cg = c / groups, len = cg * inner;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t ig = 0; ig < n * groups; ig++) {
    const int64_t c0 = (ig % groups) * cg;
    const int64_t off = (ig / groups) * c * inner + c0 * inner;
    double s1, s2;
    P.moments_runs(&s1, &s2, x + off, 1, len, len, x[off]);
    const Stats s = finish_stats(s1, s2, (double)len, x[off], eps);
    mean[ig] = s.hi;
    rstd[ig] = (float)s.rstd;
    if (inner == 1) {
      // LayerNorm rows: per-element γ, β.
      P.row_affine(y + off, x + off, len, s.hi, s.lo, (float)s.rstd, gamma ? gamma + c0 : nullptr,
                   beta ? beta + c0 : nullptr);
    } else if (inner >= kShortInner) {
      for (int64_t cc = 0; cc < cg; cc++) {
        const float a = (float)(s.rstd * (gamma ? gamma[c0 + cc] : 1.f));
        const float b = (beta ? beta[c0 + cc] : 0.f) - s.lo * a;
        P.affine(y + off + cc * inner, x + off + cc * inner, inner, s.hi, a, b);
      }
    } else {
      // Short channels (LayerNorm rows: inner = 1): per-element coefficients, kTile at a time.
      float m[kTile], a[kTile], b[kTile];
      for (int64_t e0 = 0; e0 < len; e0 += kTile) {
        const int64_t w = std::min(kTile, len - e0);
        for (int64_t e = 0; e < w; e++) {
          const int64_t ch = c0 + (e0 + e) / inner;
          m[e] = s.hi;
          a[e] = (float)(s.rstd * (gamma ? gamma[ch] : 1.f));
          b[e] = (beta ? beta[ch] : 0.f) - s.lo * a[e];
        }
        P.affine_cols(y + off + e0, x + off + e0, 1, w, 0, m, a, b);
      }
    }
  }
}

// Backward for group (i, g) with M = CG·I values, x̂ = (x − mean)·rstd, y_c = γ_c·x̂ + β_c:
//   dx = rstd · (γ_c·dy − A − x̂·B),  A = mean over the group of γ·dy,  B = mean of γ·dy·x̂
//   (same three paths as BatchNorm: direct, through the mean, through rstd; γ now varies per channel
//    so the means weight each channel's sums by its γ_c)
//      = k1_c·dy + k2·(x − mean) + k3 with
//        k1_c = γ_c·rstd,  k2 = −rstd³·Σ_c γ_c Σdy·(x − mean) / M,  k3 = −rstd·Σ_c γ_c Σdy / M.
//   dβ_c += Σ_i Σ dy,  dγ_c += Σ_i rstd_(i,g) · Σ dy·(x − mean_(i,g))  — split over channels, a second pass.
// As in BatchNorm, the float32 mean is re-centred on the exact one (δ = Σ(x − mean_f)/M over the group,
// measured in the same pass); the parameter pass needs each group's δ, kept in a vector of N·G doubles
// (the only allocation in these kernels, and only when dγ or dβ is asked for).
namespace {

// dx for group ig = (i, g) (see below); returns δ, the offset of the exact group mean from mean[ig].
// With ch_sdy / ch_sdyx (inner >= kShortInner, CG <= kTile) also returns each channel's Σdy and
// Σdy·(x − mean_f).
double group_backward_dx(const Prims& P, float* dx, const float* dy, const float* x, const float* mean,
                         const float* rstd, const float* gamma, int64_t c, int64_t inner, int64_t groups, int64_t ig,
                         double* ch_sdy, double* ch_sdyx) {
  const int64_t cg = c / groups, len = cg * inner;
  const int64_t c0 = (ig % groups) * cg;
  const int64_t off = (ig / groups) * c * inner + c0 * inner;
  const float m = mean[ig];
  const double r = rstd[ig];
  double ga = 0, gb = 0, sx = 0;  // Σ_c γ_c Σdy,  Σ_c γ_c Σdy·(x − mean_f),  Σ(x − mean_f)
  if (inner >= kShortInner) {
    for (int64_t cc = 0; cc < cg; cc++) {
      double sdy, sdyx, sxc;
      P.dot_runs(&sdy, &sdyx, &sxc, dy + off + cc * inner, x + off + cc * inner, 1, inner, inner, m);
      const double g = gamma ? gamma[c0 + cc] : 1.f;
      if (ch_sdy) {
        ch_sdy[cc] = sdy;
        ch_sdyx[cc] = sdyx;
      }
      ga += g * sdy;
      gb += g * sdyx;
      sx += sxc;
    }
  } else if (inner == 1) {
    P.row_dot(&ga, &gb, &sx, dy + off, x + off, gamma ? gamma + c0 : nullptr, len, m);
  } else {
    for (int64_t cc = 0; cc < cg; cc++) {
      const double g = gamma ? gamma[c0 + cc] : 1.f;
      for (int64_t k = cc * inner; k < (cc + 1) * inner; k++) {
        const double d = (double)dy[off + k] * g;
        const float xm = x[off + k] - m;
        ga += d;
        gb += d * (double)xm;
        sx += xm;
      }
    }
  }
  const double delta = sx / (double)len;
  gb -= delta * ga;  // re-centred on the exact mean
  const double kk2 = -r * r * r * gb / (double)len;
  const float k2 = (float)kk2;
  const float k3 = (float)(-r * ga / (double)len - kk2 * delta);
  if (inner >= kShortInner) {
    for (int64_t cc = 0; cc < cg; cc++) {
      const float k1 = (float)((gamma ? gamma[c0 + cc] : 1.f) * r);
      P.bwd(dx + off + cc * inner, dy + off + cc * inner, x + off + cc * inner, inner, m, k1, k2, k3);
    }
  } else if (inner == 1) {
    P.row_bwd(dx + off, dy + off, x + off, gamma ? gamma + c0 : nullptr, len, m, (float)r, k2, k3);
  } else {
    float mm[kTile], k1[kTile], k2v[kTile], k3v[kTile];
    for (int64_t e0 = 0; e0 < len; e0 += kTile) {
      const int64_t w = std::min(kTile, len - e0);
      for (int64_t e = 0; e < w; e++) {
        mm[e] = m;
        k1[e] = (float)((gamma ? gamma[c0 + (e0 + e) / inner] : 1.f) * r);
        k2v[e] = k2;
        k3v[e] = k3;
      }
      P.bwd_cols(dx + off + e0, dy + off + e0, x + off + e0, 1, w, 0, mm, k1, k2v, k3v);
    }
  }
  return delta;
}

}  // namespace

void group_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                         const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t inner,
                         int64_t groups) {
  const Prims& P = prims();
  const int nt = threads_for(n * c * inner);
  (void)nt;  // unused without OpenMP
  const int64_t cg = c / groups;
  const bool grads = dgamma || dbeta;
  constexpr int64_t kOwned = 1024;  // channels a thread may own in the fused sweep
  const int64_t gpt = (groups + nt - 1) / nt;  // groups per thread
  if (grads && inner >= kShortInner && groups >= nt && gpt * cg <= kOwned) {
    // Each thread owns a run of whole groups, hence whole channels, and walks them sample by sample
    // (one contiguous stretch per sample): the dx sweep also yields the channels' sums, so the
    // parameter gradients need no second sweep. Same per-channel sums in the same order (samples
    // ascending) as the two-pass split below, so the result does not depend on which one runs.
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (int t = 0; t < nt; t++) {
      const int64_t g0 = t * gpt, g1 = std::min(groups, g0 + gpt);
      if (g0 >= g1) continue;
      double accb[kOwned] = {0}, accg[kOwned] = {0}, sdy[kOwned], sdyx[kOwned];
      for (int64_t i = 0; i < n; i++)
        for (int64_t g = g0; g < g1; g++) {
          const int64_t ig = i * groups + g, a = (g - g0) * cg;
          const double delta =
              group_backward_dx(P, dx, dy, x, mean, rstd, gamma, c, inner, groups, ig, sdy + a, sdyx + a);
          for (int64_t cc = 0; cc < cg; cc++) {
            accb[a + cc] += sdy[a + cc];
            accg[a + cc] += (double)rstd[ig] * (sdyx[a + cc] - delta * sdy[a + cc]);
          }
        }
      for (int64_t k = 0; k < (g1 - g0) * cg; k++) {
        if (dbeta) dbeta[g0 * cg + k] += (float)accb[k];
        if (dgamma) dgamma[g0 * cg + k] += (float)accg[k];
      }
    }
    return;
  }
  std::vector<double> deltas(grads ? (size_t)(n * groups) : 0);
  double* delta_out = deltas.empty() ? nullptr : deltas.data();
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t ig = 0; ig < n * groups; ig++) {
    const double delta = group_backward_dx(P, dx, dy, x, mean, rstd, gamma, c, inner, groups, ig, nullptr, nullptr);
    if (delta_out) delta_out[ig] = delta;
  }
  if (!dgamma && !dbeta) return;
  // Parameter gradients: each thread owns whole channels (no shared accumulators).
  if (inner >= kShortInner) {
    const int64_t tw = tile_width(c, nt), tiles = (c + tw - 1) / tw;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (int64_t t = 0; t < tiles; t++) {
      const int64_t j0 = t * tw, w = std::min(tw, c - j0);
      double accb[kTile] = {0}, accg[kTile] = {0};
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < w; j++) {
          const int64_t ch = j0 + j, ig = i * groups + ch / cg, off = (i * c + ch) * inner;
          double sdy, sdyx, sx;
          P.dot_runs(&sdy, &sdyx, &sx, dy + off, x + off, 1, inner, inner, mean[ig]);
          accb[j] += sdy;
          accg[j] += (double)rstd[ig] * (sdyx - delta_out[ig] * sdy);
        }
      for (int64_t j = 0; j < w; j++) {
        if (dbeta) dbeta[j0 + j] += (float)accb[j];
        if (dgamma) dgamma[j0 + j] += (float)accg[j];
      }
    }
    return;
  }
  // Short channels: tiles of channels walk all samples (rows of c·inner contiguous values); with
  // inner == 1 a tile is kRowTile channels wide so each row visit is a long contiguous run.
  constexpr int64_t kRowTile = 1024;
  const int64_t tw = inner == 1 ? kRowTile : kTile, tiles = (c + tw - 1) / tw;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
  for (int64_t t = 0; t < tiles; t++) {
    const int64_t j0 = t * tw, w = std::min(tw, c - j0);
    double accb[kRowTile] = {0}, accg[kRowTile] = {0};
    if (inner == 1) {
      // Rows of c values; the tile is split where it crosses a group boundary.
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < w;) {
          const int64_t g = (j0 + j) / cg, end = std::min(w, (g + 1) * cg - j0), ig = i * groups + g;
          P.row_param(accb + j, accg + j, dy + i * c + j0 + j, x + i * c + j0 + j, end - j, mean[ig], rstd[ig],
                      delta_out[ig]);
          j = end;
        }
    }
    for (int64_t i = 0; i < n && inner > 1; i++) {
      for (int64_t j = 0; j < w; j++) {
        const int64_t ch = j0 + j, ig = i * groups + ch / cg, off = (i * c + ch) * inner;
        const float m = mean[ig];
        double sb = 0, sg = 0;
        for (int64_t k = 0; k < inner; k++) {
          sb += dy[off + k];
          sg += (double)dy[off + k] * (double)(x[off + k] - m);
        }
        accb[j] += sb;
        accg[j] += (double)rstd[ig] * (sg - delta_out[ig] * sb);
      }
    }
    for (int64_t j = 0; j < w; j++) {
      if (dbeta) dbeta[j0 + j] += (float)accb[j];
      if (dgamma) dgamma[j0 + j] += (float)accg[j];
    }
  }
}

// ========================================================================== references

void batch_norm_forward_ref(float* y, float* mean, float* var, float* rstd, const float* x, const float* gamma,
                            const float* beta, int64_t n, int64_t c, int64_t inner, float eps) {
  const double count = (double)(n * inner);
  for (int64_t ch = 0; ch < c; ch++) {
    double s = 0;  // two passes: mean, then the centered sum of squares
    for (int64_t i = 0; i < n; i++)
      for (int64_t k = 0; k < inner; k++) s += x[(i * c + ch) * inner + k];
    const double mu = s / count;
    double q = 0;
    for (int64_t i = 0; i < n; i++)
      for (int64_t k = 0; k < inner; k++) {
        const double d = x[(i * c + ch) * inner + k] - mu;
        q += d * d;
      }
    const double v = q / count, r = 1.0 / std::sqrt(v + (double)eps);
    mean[ch] = (float)mu;
    var[ch] = (float)v;
    rstd[ch] = (float)r;
    const double g = gamma ? gamma[ch] : 1.0, b = beta ? beta[ch] : 0.0;
    for (int64_t i = 0; i < n; i++)
      for (int64_t k = 0; k < inner; k++) {
        const int64_t o = (i * c + ch) * inner + k;
        y[o] = (float)((x[o] - mu) * r * g + b);
      }
  }
}

void batch_norm_backward_ref(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                             const float* mean, const float* rstd, const float* gamma, int64_t n, int64_t c,
                             int64_t inner) {
  const double count = (double)(n * inner);
  for (int64_t ch = 0; ch < c; ch++) {
    const double mu = mean[ch], r = rstd[ch], g = gamma ? gamma[ch] : 1.0;
    double sdy = 0, sdyxh = 0;
    for (int64_t i = 0; i < n; i++)
      for (int64_t k = 0; k < inner; k++) {
        const int64_t o = (i * c + ch) * inner + k;
        sdy += dy[o];
        sdyxh += dy[o] * (x[o] - mu) * r;
      }
    if (dbeta) dbeta[ch] += (float)sdy;
    if (dgamma) dgamma[ch] += (float)sdyxh;
    for (int64_t i = 0; i < n; i++)
      for (int64_t k = 0; k < inner; k++) {
        const int64_t o = (i * c + ch) * inner + k;
        const double xh = (x[o] - mu) * r;
        dx[o] = (float)(r * (g * dy[o] - g * sdy / count - xh * g * sdyxh / count));
      }
  }
}

void group_norm_forward_ref(float* y, float* mean, float* rstd, const float* x, const float* gamma,
                            const float* beta, int64_t n, int64_t c, int64_t inner, int64_t groups, float eps) {
  const int64_t cg = c / groups, len = cg * inner;
  for (int64_t ig = 0; ig < n * groups; ig++) {
    const int64_t c0 = (ig % groups) * cg, off = (ig / groups) * c * inner + c0 * inner;
    double s = 0, q = 0;
    for (int64_t e = 0; e < len; e++) s += x[off + e];
    const double mu = s / (double)len;
    for (int64_t e = 0; e < len; e++) q += (x[off + e] - mu) * (x[off + e] - mu);
    const double r = 1.0 / std::sqrt(q / (double)len + (double)eps);
    mean[ig] = (float)mu;
    rstd[ig] = (float)r;
    for (int64_t e = 0; e < len; e++) {
      const int64_t ch = c0 + e / inner;
      y[off + e] = (float)((x[off + e] - mu) * r * (gamma ? gamma[ch] : 1.0) + (beta ? beta[ch] : 0.0));
    }
  }
}

void group_norm_backward_ref(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                             const float* mean, const float* rstd, const float* gamma, int64_t n, int64_t c,
                             int64_t inner, int64_t groups) {
  const int64_t cg = c / groups, len = cg * inner;
  for (int64_t ig = 0; ig < n * groups; ig++) {
    const int64_t c0 = (ig % groups) * cg, off = (ig / groups) * c * inner + c0 * inner;
    const double mu = mean[ig], r = rstd[ig];
    double a = 0, b = 0;
    for (int64_t e = 0; e < len; e++) {
      const int64_t ch = c0 + e / inner;
      const double gdy = (gamma ? gamma[ch] : 1.0) * dy[off + e], xh = (x[off + e] - mu) * r;
      a += gdy;
      b += gdy * xh;
      if (dbeta) dbeta[ch] += dy[off + e];
      if (dgamma) dgamma[ch] += (float)(dy[off + e] * xh);
    }
    a /= (double)len;
    b /= (double)len;
    for (int64_t e = 0; e < len; e++) {
      const int64_t ch = c0 + e / inner;
      const double xh = (x[off + e] - mu) * r;
      dx[off + e] = (float)(r * ((gamma ? gamma[ch] : 1.0) * dy[off + e] - a - xh * b));
    }
  }
}

// ==================================================================== scalar primitives

void norm_moments_runs(double* s1, double* s2, const float* x, int64_t blocks, int64_t len, int64_t stride,
                       float shift) {
  double a = 0, q = 0;
  for (int64_t b = 0; b < blocks; b++) {
    const float* p = x + b * stride;
    for (int64_t k = 0; k < len; k++) {
      const double d = (double)p[k] - (double)shift;
      a += d;
      q += d * d;
    }
  }
  *s1 = a;
  *s2 = q;
}

void norm_moments_cols(double* s1, double* s2, const float* x, int64_t rows, int64_t cols, int64_t stride,
                       const float* shift) {
  for (int64_t r = 0; r < rows; r++) {
    const float* p = x + r * stride;
    for (int64_t j = 0; j < cols; j++) {
      const double d = (double)p[j] - (double)shift[j];
      s1[j] += d;
      s2[j] += d * d;
    }
  }
}

void norm_dot_runs(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t blocks,
                   int64_t len, int64_t stride, float m) {
  double a = 0, q = 0, e = 0;
  for (int64_t b = 0; b < blocks; b++) {
    const float *g = dy + b * stride, *p = x + b * stride;
    for (int64_t k = 0; k < len; k++) {
      const float d = p[k] - m;
      a += g[k];
      q += (double)(g[k] * d);
      e += d;
    }
  }
  *sdy = a;
  *sdyx = q;
  *sx = e;
}

void norm_dot_cols(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t rows,
                   int64_t cols, int64_t stride, const float* m) {
  for (int64_t r = 0; r < rows; r++) {
    const float *g = dy + r * stride, *p = x + r * stride;
    for (int64_t j = 0; j < cols; j++) {
      const float d = p[j] - m[j];
      sdy[j] += g[j];
      sdyx[j] += (double)(g[j] * d);
      sx[j] += d;
    }
  }
}

void norm_affine(float* y, const float* x, int64_t len, float m, float a, float b) {
  for (int64_t k = 0; k < len; k++) y[k] = (x[k] - m) * a + b;
}

void norm_affine_cols(float* y, const float* x, int64_t rows, int64_t cols, int64_t stride, const float* m,
                      const float* a, const float* b) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < cols; j++) y[r * stride + j] = (x[r * stride + j] - m[j]) * a[j] + b[j];
}

void norm_bwd(float* dx, const float* dy, const float* x, int64_t len, float m, float k1, float k2, float k3) {
  for (int64_t k = 0; k < len; k++) dx[k] = k1 * dy[k] + (k2 * (x[k] - m) + k3);
}

void norm_bwd_cols(float* dx, const float* dy, const float* x, int64_t rows, int64_t cols, int64_t stride,
                   const float* m, const float* k1, const float* k2, const float* k3) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < cols; j++) {
      const int64_t o = r * stride + j;
      dx[o] = k1[j] * dy[o] + (k2[j] * (x[o] - m[j]) + k3[j]);
    }
}

void norm_row_affine(float* y, const float* x, int64_t len, float m, float lo, float r, const float* gamma,
                     const float* beta) {
  for (int64_t j = 0; j < len; j++)
    y[j] = ((x[j] - m) - lo) * r * (gamma ? gamma[j] : 1.f) + (beta ? beta[j] : 0.f);
}

void norm_row_dot(double* sg, double* sgx, double* sx, const float* dy, const float* x, const float* gamma,
                  int64_t len, float m) {
  double a = 0, q = 0, e = 0;
  for (int64_t j = 0; j < len; j++) {
    const float g = gamma ? gamma[j] * dy[j] : dy[j], d = x[j] - m;
    a += g;
    q += (double)(g * d);
    e += d;
  }
  *sg = a;
  *sgx = q;
  *sx = e;
}

void norm_row_bwd(float* dx, const float* dy, const float* x, const float* gamma, int64_t len, float m, float r,
                  float k2, float k3) {
  for (int64_t j = 0; j < len; j++) dx[j] = (r * (gamma ? gamma[j] : 1.f)) * dy[j] + (k2 * (x[j] - m) + k3);
}

void norm_row_param(double* accb, double* accg, const float* dy, const float* x, int64_t len, float m, double r,
                    double delta) {
  for (int64_t j = 0; j < len; j++) {
    accb[j] += dy[j];
    accg[j] += r * (double)dy[j] * ((double)(x[j] - m) - delta);
  }
}

}  // namespace mb
