// norm_group.cc — GroupNorm drivers (LayerNorm and InstanceNorm are GroupNorm with one group per
// sample or per channel) over the primitives of norm_prims.h. See norm.h for the numerics.
#include <algorithm>
#include <cmath>
#include <vector>

#include "norm.h"
#include "norm_prims.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

using namespace norm_detail;

// ================================================================================ GroupNorm
// Group (i, g) is one contiguous run of CG·I values starting at x + (i·C + g·CG)·I.

void group_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                        int64_t n, int64_t c, int64_t inner, int64_t groups, float eps) {
  const Prims& P = prims();
  [[maybe_unused]] const int nt = threads_for(n * c * inner);  // unused without OpenMP
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
      // Short channels (1 < inner < kShortInner): per-element coefficients, kTile at a time.
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

// Channels a thread may own in the fused sweep.
constexpr int64_t kOwned = 1024;

// Fused sweep: each thread owns a run of whole groups, hence whole channels, and walks them sample
// by sample (one contiguous stretch per sample): the dx sweep also yields the channels' sums, so the
// parameter gradients need no second sweep. Same per-channel sums in the same order (samples
// ascending) as the two-pass split, so the result does not depend on which one runs.
void group_backward_fused(const Prims& P, float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                          const float* mean, const float* rstd, const float* gamma, int64_t n, int64_t c,
                          int64_t inner, int64_t groups, int nt) {
  const int64_t cg = c / groups;
  const int64_t gpt = (groups + nt - 1) / nt;  // groups per thread
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
    add_param_grads(dgamma, dbeta, accg, accb, g0 * cg, (g1 - g0) * cg);
  }
}

// Two-pass parameter gradients, channels of at least kShortInner values: each thread owns a tile of
// whole channels (no shared accumulators).
void group_param_grads_long(const Prims& P, float* dgamma, float* dbeta, const float* dy, const float* x,
                            const float* mean, const float* rstd, const double* delta_out, int64_t n, int64_t c,
                            int64_t inner, int64_t groups, int nt) {
  const int64_t cg = c / groups;
  for_tiles(c, tile_width(c, nt), nt, [&](int64_t j0, int64_t w) {
    double accb[kTile] = {0}, accg[kTile] = {0};
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < w; j++) {
        const int64_t ch = j0 + j, ig = i * groups + ch / cg, off = (i * c + ch) * inner;
        double sdy, sdyx, sx;
        P.dot_runs(&sdy, &sdyx, &sx, dy + off, x + off, 1, inner, inner, mean[ig]);
        accb[j] += sdy;
        accg[j] += (double)rstd[ig] * (sdyx - delta_out[ig] * sdy);
      }
    add_param_grads(dgamma, dbeta, accg, accb, j0, w);
  });
}

// Two-pass parameter gradients, short channels: tiles of channels walk all samples (rows of c·inner
// contiguous values); with inner == 1 a tile is kRowTile channels wide so each row visit is a long
// contiguous run.
void group_param_grads_short(const Prims& P, float* dgamma, float* dbeta, const float* dy, const float* x,
                             const float* mean, const float* rstd, const double* delta_out, int64_t n, int64_t c,
                             int64_t inner, int64_t groups, int nt) {
  const int64_t cg = c / groups;
  constexpr int64_t kRowTile = 1024;
  for_tiles(c, inner == 1 ? kRowTile : kTile, nt, [&](int64_t j0, int64_t w) {
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
    add_param_grads(dgamma, dbeta, accg, accb, j0, w);
  });
}

}  // namespace

void group_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                         const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t inner,
                         int64_t groups) {
  const Prims& P = prims();
  const int nt = threads_for(n * c * inner);
  const int64_t cg = c / groups;
  const bool grads = dgamma || dbeta;
  const int64_t gpt = (groups + nt - 1) / nt;  // groups per thread
  if (grads && inner >= kShortInner && groups >= nt && gpt * cg <= kOwned) {
    group_backward_fused(P, dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, inner, groups, nt);
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
  if (!grads) return;
  if (inner >= kShortInner)
    group_param_grads_long(P, dgamma, dbeta, dy, x, mean, rstd, delta_out, n, c, inner, groups, nt);
  else
    group_param_grads_short(P, dgamma, dbeta, dy, x, mean, rstd, delta_out, n, c, inner, groups, nt);
}

}  // namespace mb
