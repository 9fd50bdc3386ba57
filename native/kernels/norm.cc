// norm.cc — BatchNorm drivers (parallel split, statistics, coefficients) over the primitives of
// norm_prims.h (scalar forms in norm_ref.cc, AVX2 forms in norm_avx2.cc). GroupNorm and LayerNorm
// live in norm_group.cc. See norm.h for the numerics and the legend.
#include <algorithm>
#include <cmath>

#include "norm.h"
#include "norm_prims.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

using namespace norm_detail;

namespace {

// The per-channel coefficients of a BatchNorm forward tile (channels j0 .. j0 + w): statistics out
// (mean, var, rstd) and the normalize pass's y = (x − m)·a + b.
void forward_coefs(float* mean, float* var, float* rstd, float* m, float* a, float* b, const double* s1,
                   const double* s2, const float* shift, const float* gamma, const float* beta, int64_t j0,
                   int64_t w, double count, float eps) {
  for (int64_t j = 0; j < w; j++) {
    const Stats s = finish_stats(s1[j], s2[j], count, shift[j], eps);
    mean[j0 + j] = s.hi;
    var[j0 + j] = (float)s.var;
    rstd[j0 + j] = (float)s.rstd;
    a[j] = (float)(s.rstd * (gamma ? gamma[j0 + j] : 1.f));
    b[j] = (beta ? beta[j0 + j] : 0.f) - s.lo * a[j];
    m[j] = s.hi;
  }
}

// The per-channel coefficients of a BatchNorm backward tile from its sums (see batch_norm_backward):
// dβ and dγ accumulated, k1..k3 for the dx pass.
void backward_coefs(float* dgamma, float* dbeta, float* k1, float* k2, float* k3, const double* sdy,
                    const double* sdyx, const double* sx, const float* rstd, const float* gamma, int64_t j0,
                    int64_t w, double count) {
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
}

}  // namespace

// ================================================================================ BatchNorm

void batch_norm_forward(float* y, float* mean, float* var, float* rstd, const float* x, const float* gamma,
                        const float* beta, int64_t n, int64_t c, int64_t inner, float eps) {
  const Prims& P = prims();
  const int nt = threads_for(n * c * inner);
  const double count = (double)(n * inner);
  if (inner == 1) {
    // x is [n, c]: each thread owns tiles of kTile columns and walks all rows (contiguous per row).
    for_tiles(c, kTile, nt, [&](int64_t j0, int64_t w) {
      float shift[kTile] = {0}, m[kTile], a[kTile], b[kTile];
      double s1[kTile] = {0}, s2[kTile] = {0};
      for (int64_t j = 0; j < w; j++) shift[j] = x[j0 + j];
      P.moments_cols(s1, s2, x + j0, n, w, c, shift);
      forward_coefs(mean, var, rstd, m, a, b, s1, s2, shift, gamma, beta, j0, w, count, eps);
      P.affine_cols(y + j0, x + j0, n, w, c, m, a, b);
    });
    return;
  }
  // x is [n, c, inner]: channel ch is n runs of inner contiguous values, c·inner apart. Tiles of
  // channels: a statistics sweep, then a normalize sweep, each sample by sample.
  for_tiles(c, tile_width(c, nt), nt, [&](int64_t j0, int64_t w) {
    float shift[kTile] = {0}, m[kTile], a[kTile], b[kTile];
    double s1[kTile] = {0}, s2[kTile] = {0};
    for (int64_t j = 0; j < w; j++) shift[j] = x[(j0 + j) * inner];
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < w; j++) {
        double p1, p2;
        P.moments_runs(&p1, &p2, x + (i * c + j0 + j) * inner, 1, inner, inner, shift[j]);
        s1[j] += p1;
        s2[j] += p2;
      }
    forward_coefs(mean, var, rstd, m, a, b, s1, s2, shift, gamma, beta, j0, w, count, eps);
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < w; j++) {
        const int64_t off = (i * c + j0 + j) * inner;
        P.affine(y + off, x + off, inner, m[j], a[j], b[j]);
      }
  });
}

void batch_norm_inference(float* y, const float* x, const float* running_mean, const float* running_var,
                          const float* gamma, const float* beta, int64_t n, int64_t c, int64_t inner, float eps) {
  const Prims& P = prims();
  const int nt = threads_for(n * c * inner);
  auto coef = [&](int64_t ch) { return (float)((gamma ? gamma[ch] : 1.f) / std::sqrt((double)running_var[ch] + eps)); };
  if (inner == 1) {
    for_tiles(c, kTile, nt, [&](int64_t j0, int64_t w) {
      float a[kTile], b[kTile];
      for (int64_t j = 0; j < w; j++) {
        a[j] = coef(j0 + j);
        b[j] = beta ? beta[j0 + j] : 0.f;
      }
      P.affine_cols(y + j0, x + j0, n, w, c, running_mean + j0, a, b);
    });
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
  const double count = (double)(n * inner);
  if (inner == 1) {
    for_tiles(c, kTile, nt, [&](int64_t j0, int64_t w) {
      double sdy[kTile] = {0}, sdyx[kTile] = {0}, sx[kTile] = {0};
      float k1[kTile], k2[kTile], k3[kTile];
      P.dot_cols(sdy, sdyx, sx, dy + j0, x + j0, n, w, c, mean + j0);
      backward_coefs(dgamma, dbeta, k1, k2, k3, sdy, sdyx, sx, rstd, gamma, j0, w, count);
      P.bwd_cols(dx + j0, dy + j0, x + j0, n, w, c, mean + j0, k1, k2, k3);
    });
    return;
  }
  // Tiles of channels, sample by sample (see tile_width): a reduction sweep, then the dx sweep.
  for_tiles(c, tile_width(c, nt), nt, [&](int64_t j0, int64_t w) {
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
    backward_coefs(dgamma, dbeta, k1, k2, k3, sdy, sdyx, sx, rstd, gamma, j0, w, count);
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < w; j++) {
        const int64_t off = (i * c + j0 + j) * inner;
        P.bwd(dx + off, dy + off, x + off, inner, mean[j0 + j], k1[j], k2[j], k3[j]);
      }
  });
}

}  // namespace mb
