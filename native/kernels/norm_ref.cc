// norm_ref.cc — the scalar references of the norm kernels (the test oracle) and the scalar forms
// of the primitives (the fallback; their AVX2 forms are in norm_avx2.cc).
#include <algorithm>
#include <cmath>

#include "norm.h"

namespace mb {

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
