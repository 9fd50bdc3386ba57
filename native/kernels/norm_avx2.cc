// norm_avx2.cc — AVX2+FMA forms of the normalization primitives (compiled with -mavx2 -mfma only).
//
// Reductions subtract the shift (or mean) in float, convert each 4-float half to double lanes and
// accumulate in several independent double vectors (the run forms first sum a few values a lane in
// float, so only those partial sums are converted); the order of additions depends only on the
// length, so results are deterministic. Tails fall back to scalar double arithmetic.
#include <immintrin.h>

#include "norm.h"

namespace mb {

namespace {

inline __m256d lo_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d hi_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

inline double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

}  // namespace

void norm_moments_runs_avx2(double* s1, double* s2, const float* x, int64_t blocks, int64_t len, int64_t stride,
                            float shift) {
  const __m256 vs = _mm256_set1_ps(shift);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, q0 = a0, q1 = a0, q2 = a0, q3 = a0;
  double ta = 0, tq = 0;
  for (int64_t b = 0; b < blocks; b++) {
    const float* p = x + b * stride;
    int64_t k = 0;
    while (k + 8 <= len) {
      // Up to 72 values (each lane: at most 5 shifted values, and their squares) summed in float,
      // then added in double: about a quarter of the conversions of a double add per value. The
      // order depends only on len.
      __m256 f0 = _mm256_setzero_ps(), f1 = f0, g0 = f0, g1 = f0;
      for (int r = 0; r < 4 && k + 16 <= len; r++, k += 16) {
        const __m256 u = _mm256_sub_ps(_mm256_loadu_ps(p + k), vs);
        const __m256 v = _mm256_sub_ps(_mm256_loadu_ps(p + k + 8), vs);
        f0 = _mm256_add_ps(f0, u);
        f1 = _mm256_add_ps(f1, v);
        g0 = _mm256_fmadd_ps(u, u, g0);
        g1 = _mm256_fmadd_ps(v, v, g1);
      }
      if (k + 16 > len && k + 8 <= len) {
        const __m256 u = _mm256_sub_ps(_mm256_loadu_ps(p + k), vs);
        f0 = _mm256_add_ps(f0, u);
        g0 = _mm256_fmadd_ps(u, u, g0);
        k += 8;
      }
      a0 = _mm256_add_pd(a0, lo_pd(f0));
      a1 = _mm256_add_pd(a1, hi_pd(f0));
      a2 = _mm256_add_pd(a2, lo_pd(f1));
      a3 = _mm256_add_pd(a3, hi_pd(f1));
      q0 = _mm256_add_pd(q0, lo_pd(g0));
      q1 = _mm256_add_pd(q1, hi_pd(g0));
      q2 = _mm256_add_pd(q2, lo_pd(g1));
      q3 = _mm256_add_pd(q3, hi_pd(g1));
    }
    for (; k < len; k++) {
      const double d = (double)(p[k] - shift);
      ta += d;
      tq += d * d;
    }
  }
  *s1 = hsum(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3))) + ta;
  *s2 = hsum(_mm256_add_pd(_mm256_add_pd(q0, q1), _mm256_add_pd(q2, q3))) + tq;
}

void norm_moments_cols_avx2(double* s1, double* s2, const float* x, int64_t rows, int64_t cols, int64_t stride,
                            const float* shift) {
  int64_t j = 0;
  // 16 columns at a time: eight double accumulators stay in registers while the rows stream by.
  for (; j + 16 <= cols; j += 16) {
    const __m256 vs0 = _mm256_loadu_ps(shift + j), vs1 = _mm256_loadu_ps(shift + j + 8);
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, q0 = a0, q1 = a0, q2 = a0, q3 = a0;
    for (int64_t r = 0; r < rows; r++) {
      const float* p = x + r * stride + j;
      const __m256 u = _mm256_sub_ps(_mm256_loadu_ps(p), vs0);
      const __m256 v = _mm256_sub_ps(_mm256_loadu_ps(p + 8), vs1);
      const __m256d d0 = lo_pd(u), d1 = hi_pd(u), d2 = lo_pd(v), d3 = hi_pd(v);
      a0 = _mm256_add_pd(a0, d0);
      a1 = _mm256_add_pd(a1, d1);
      a2 = _mm256_add_pd(a2, d2);
      a3 = _mm256_add_pd(a3, d3);
      q0 = _mm256_fmadd_pd(d0, d0, q0);
      q1 = _mm256_fmadd_pd(d1, d1, q1);
      q2 = _mm256_fmadd_pd(d2, d2, q2);
      q3 = _mm256_fmadd_pd(d3, d3, q3);
    }
    _mm256_storeu_pd(s1 + j, _mm256_add_pd(_mm256_loadu_pd(s1 + j), a0));
    _mm256_storeu_pd(s1 + j + 4, _mm256_add_pd(_mm256_loadu_pd(s1 + j + 4), a1));
    _mm256_storeu_pd(s1 + j + 8, _mm256_add_pd(_mm256_loadu_pd(s1 + j + 8), a2));
    _mm256_storeu_pd(s1 + j + 12, _mm256_add_pd(_mm256_loadu_pd(s1 + j + 12), a3));
    _mm256_storeu_pd(s2 + j, _mm256_add_pd(_mm256_loadu_pd(s2 + j), q0));
    _mm256_storeu_pd(s2 + j + 4, _mm256_add_pd(_mm256_loadu_pd(s2 + j + 4), q1));
    _mm256_storeu_pd(s2 + j + 8, _mm256_add_pd(_mm256_loadu_pd(s2 + j + 8), q2));
    _mm256_storeu_pd(s2 + j + 12, _mm256_add_pd(_mm256_loadu_pd(s2 + j + 12), q3));
  }
  for (; j < cols; j++) {
    double a = 0, q = 0;
    for (int64_t r = 0; r < rows; r++) {
      const double d = (double)(x[r * stride + j] - shift[j]);
      a += d;
      q += d * d;
    }
    s1[j] += a;
    s2[j] += q;
  }
}

void norm_dot_runs_avx2(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t blocks,
                        int64_t len, int64_t stride, float m) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, q0 = a0, q1 = a0, q2 = a0, q3 = a0;
  __m256d e0 = a0, e1 = a0;
  double ta = 0, tq = 0, te = 0;
  for (int64_t b = 0; b < blocks; b++) {
    const float *g = dy + b * stride, *p = x + b * stride;
    int64_t k = 0;
    while (k + 16 <= len) {
      // Up to 64 values summed in float (each lane adds at most 4 terms), then added in double: a
      // quarter of the conversions of a double add per step, with float error over 4 terms only.
      __m256 g0s = _mm256_setzero_ps(), g1s = g0s, p0s = g0s, p1s = g0s, ds = g0s;
      for (int r = 0; r < 4 && k + 16 <= len; r++, k += 16) {
        const __m256 g0 = _mm256_loadu_ps(g + k), g1 = _mm256_loadu_ps(g + k + 8);
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(p + k), vm);
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(p + k + 8), vm);
        g0s = _mm256_add_ps(g0s, g0);
        g1s = _mm256_add_ps(g1s, g1);
        p0s = _mm256_add_ps(p0s, _mm256_mul_ps(g0, d0));
        p1s = _mm256_add_ps(p1s, _mm256_mul_ps(g1, d1));
        // Σ(x − m): small terms (m is within a rounding of the mean)
        ds = _mm256_add_ps(ds, _mm256_add_ps(d0, d1));
      }
      a0 = _mm256_add_pd(a0, lo_pd(g0s));
      a1 = _mm256_add_pd(a1, hi_pd(g0s));
      a2 = _mm256_add_pd(a2, lo_pd(g1s));
      a3 = _mm256_add_pd(a3, hi_pd(g1s));
      q0 = _mm256_add_pd(q0, lo_pd(p0s));
      q1 = _mm256_add_pd(q1, hi_pd(p0s));
      q2 = _mm256_add_pd(q2, lo_pd(p1s));
      q3 = _mm256_add_pd(q3, hi_pd(p1s));
      e0 = _mm256_add_pd(e0, lo_pd(ds));
      e1 = _mm256_add_pd(e1, hi_pd(ds));
    }
    for (; k < len; k++) {
      const float d = p[k] - m;
      ta += g[k];
      tq += (double)(g[k] * d);
      te += d;
    }
  }
  *sdy = hsum(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3))) + ta;
  *sdyx = hsum(_mm256_add_pd(_mm256_add_pd(q0, q1), _mm256_add_pd(q2, q3))) + tq;
  *sx = hsum(_mm256_add_pd(e0, e1)) + te;
}

void norm_dot_cols_avx2(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t rows,
                        int64_t cols, int64_t stride, const float* m) {
  int64_t j = 0;
  for (; j + 8 <= cols; j += 8) {
    const __m256 vm = _mm256_loadu_ps(m + j);
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, q0 = a0, q1 = a0, e0 = a0, e1 = a0;
    for (int64_t r = 0; r < rows; r++) {
      const __m256 g = _mm256_loadu_ps(dy + r * stride + j);
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + r * stride + j), vm);
      const __m256 p = _mm256_mul_ps(g, d);
      a0 = _mm256_add_pd(a0, lo_pd(g));
      a1 = _mm256_add_pd(a1, hi_pd(g));
      q0 = _mm256_add_pd(q0, lo_pd(p));
      q1 = _mm256_add_pd(q1, hi_pd(p));
      e0 = _mm256_add_pd(e0, lo_pd(d));
      e1 = _mm256_add_pd(e1, hi_pd(d));
    }
    _mm256_storeu_pd(sdy + j, _mm256_add_pd(_mm256_loadu_pd(sdy + j), a0));
    _mm256_storeu_pd(sdy + j + 4, _mm256_add_pd(_mm256_loadu_pd(sdy + j + 4), a1));
    _mm256_storeu_pd(sdyx + j, _mm256_add_pd(_mm256_loadu_pd(sdyx + j), q0));
    _mm256_storeu_pd(sdyx + j + 4, _mm256_add_pd(_mm256_loadu_pd(sdyx + j + 4), q1));
    _mm256_storeu_pd(sx + j, _mm256_add_pd(_mm256_loadu_pd(sx + j), e0));
    _mm256_storeu_pd(sx + j + 4, _mm256_add_pd(_mm256_loadu_pd(sx + j + 4), e1));
  }
  for (; j < cols; j++) {
    double a = 0, q = 0, e = 0;
    for (int64_t r = 0; r < rows; r++) {
      const float g = dy[r * stride + j], d = x[r * stride + j] - m[j];
      a += g;
      q += (double)(g * d);
      e += d;
    }
    sdy[j] += a;
    sdyx[j] += q;
    sx[j] += e;
  }
}

void norm_affine_avx2(float* y, const float* x, int64_t len, float m, float a, float b) {
  const __m256 vm = _mm256_set1_ps(m), va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b);
  int64_t k = 0;
  for (; k + 16 <= len; k += 16) {
    const __m256 u = _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(x + k), vm), va, vb);
    const __m256 v = _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(x + k + 8), vm), va, vb);
    _mm256_storeu_ps(y + k, u);
    _mm256_storeu_ps(y + k + 8, v);
  }
  for (; k + 8 <= len; k += 8)
    _mm256_storeu_ps(y + k, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(x + k), vm), va, vb));
  for (; k < len; k++) y[k] = (x[k] - m) * a + b;
}

void norm_affine_cols_avx2(float* y, const float* x, int64_t rows, int64_t cols, int64_t stride, const float* m,
                           const float* a, const float* b) {
  for (int64_t r = 0; r < rows; r++) {
    const float* p = x + r * stride;
    float* q = y + r * stride;
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8)
      _mm256_storeu_ps(q + j, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(p + j), _mm256_loadu_ps(m + j)),
                                              _mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
    for (; j < cols; j++) q[j] = (p[j] - m[j]) * a[j] + b[j];
  }
}

void norm_bwd_avx2(float* dx, const float* dy, const float* x, int64_t len, float m, float k1, float k2, float k3) {
  const __m256 vm = _mm256_set1_ps(m), v1 = _mm256_set1_ps(k1), v2 = _mm256_set1_ps(k2), v3 = _mm256_set1_ps(k3);
  int64_t k = 0;
  for (; k + 16 <= len; k += 16) {
    const __m256 t0 = _mm256_fmadd_ps(v2, _mm256_sub_ps(_mm256_loadu_ps(x + k), vm), v3);
    const __m256 t1 = _mm256_fmadd_ps(v2, _mm256_sub_ps(_mm256_loadu_ps(x + k + 8), vm), v3);
    _mm256_storeu_ps(dx + k, _mm256_fmadd_ps(v1, _mm256_loadu_ps(dy + k), t0));
    _mm256_storeu_ps(dx + k + 8, _mm256_fmadd_ps(v1, _mm256_loadu_ps(dy + k + 8), t1));
  }
  for (; k < len; k++) dx[k] = k1 * dy[k] + (k2 * (x[k] - m) + k3);
}

void norm_bwd_cols_avx2(float* dx, const float* dy, const float* x, int64_t rows, int64_t cols, int64_t stride,
                        const float* m, const float* k1, const float* k2, const float* k3) {
  for (int64_t r = 0; r < rows; r++) {
    const int64_t o = r * stride;
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      const __m256 t = _mm256_fmadd_ps(_mm256_loadu_ps(k2 + j),
                                       _mm256_sub_ps(_mm256_loadu_ps(x + o + j), _mm256_loadu_ps(m + j)),
                                       _mm256_loadu_ps(k3 + j));
      _mm256_storeu_ps(dx + o + j, _mm256_fmadd_ps(_mm256_loadu_ps(k1 + j), _mm256_loadu_ps(dy + o + j), t));
    }
    for (; j < cols; j++) dx[o + j] = k1[j] * dy[o + j] + (k2[j] * (x[o + j] - m[j]) + k3[j]);
  }
}

namespace {
inline __m256 load_or(const float* p, int64_t j, __m256 dflt) { return p ? _mm256_loadu_ps(p + j) : dflt; }
}  // namespace

void norm_row_affine_avx2(float* y, const float* x, int64_t len, float m, float lo, float r, const float* gamma,
                          const float* beta) {
  const __m256 vm = _mm256_set1_ps(m), vlo = _mm256_set1_ps(lo), vr = _mm256_set1_ps(r);
  const __m256 one = _mm256_set1_ps(1.f), zero = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= len; j += 8) {
    const __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), vm), vlo), vr);
    _mm256_storeu_ps(y + j, _mm256_fmadd_ps(t, load_or(gamma, j, one), load_or(beta, j, zero)));
  }
  for (; j < len; j++) y[j] = ((x[j] - m) - lo) * r * (gamma ? gamma[j] : 1.f) + (beta ? beta[j] : 0.f);
}

void norm_row_dot_avx2(double* sg, double* sgx, double* sx, const float* dy, const float* x, const float* gamma,
                       int64_t len, float m) {
  const __m256 vm = _mm256_set1_ps(m), one = _mm256_set1_ps(1.f);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, q0 = a0, q1 = a0, e0 = a0, e1 = a0;
  int64_t j = 0;
  for (; j + 8 <= len; j += 8) {
    const __m256 g = _mm256_mul_ps(_mm256_loadu_ps(dy + j), load_or(gamma, j, one));
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + j), vm);
    const __m256 p = _mm256_mul_ps(g, d);
    a0 = _mm256_add_pd(a0, lo_pd(g));
    a1 = _mm256_add_pd(a1, hi_pd(g));
    q0 = _mm256_add_pd(q0, lo_pd(p));
    q1 = _mm256_add_pd(q1, hi_pd(p));
    e0 = _mm256_add_pd(e0, lo_pd(d));
    e1 = _mm256_add_pd(e1, hi_pd(d));
  }
  double a = 0, q = 0, e = 0;
  for (; j < len; j++) {
    const float g = gamma ? gamma[j] * dy[j] : dy[j], d = x[j] - m;
    a += g;
    q += (double)(g * d);
    e += d;
  }
  *sg = hsum(_mm256_add_pd(a0, a1)) + a;
  *sgx = hsum(_mm256_add_pd(q0, q1)) + q;
  *sx = hsum(_mm256_add_pd(e0, e1)) + e;
}

void norm_row_bwd_avx2(float* dx, const float* dy, const float* x, const float* gamma, int64_t len, float m, float r,
                       float k2, float k3) {
  const __m256 vm = _mm256_set1_ps(m), vr = _mm256_set1_ps(r), v2 = _mm256_set1_ps(k2), v3 = _mm256_set1_ps(k3);
  const __m256 one = _mm256_set1_ps(1.f);
  int64_t j = 0;
  for (; j + 8 <= len; j += 8) {
    const __m256 t = _mm256_fmadd_ps(v2, _mm256_sub_ps(_mm256_loadu_ps(x + j), vm), v3);
    const __m256 k1 = _mm256_mul_ps(vr, load_or(gamma, j, one));
    _mm256_storeu_ps(dx + j, _mm256_fmadd_ps(k1, _mm256_loadu_ps(dy + j), t));
  }
  for (; j < len; j++) dx[j] = (r * (gamma ? gamma[j] : 1.f)) * dy[j] + (k2 * (x[j] - m) + k3);
}

void norm_row_param_avx2(double* accb, double* accg, const float* dy, const float* x, int64_t len, float m, double r,
                         double delta) {
  const __m256 vm = _mm256_set1_ps(m);
  const __m256d vr = _mm256_set1_pd(r), vd = _mm256_set1_pd(delta);
  int64_t j = 0;
  for (; j + 8 <= len; j += 8) {
    const __m256 g = _mm256_loadu_ps(dy + j), d = _mm256_sub_ps(_mm256_loadu_ps(x + j), vm);
    const __m256d g0 = lo_pd(g), g1 = hi_pd(g);
    const __m256d d0 = _mm256_sub_pd(lo_pd(d), vd), d1 = _mm256_sub_pd(hi_pd(d), vd);
    _mm256_storeu_pd(accb + j, _mm256_add_pd(_mm256_loadu_pd(accb + j), g0));
    _mm256_storeu_pd(accb + j + 4, _mm256_add_pd(_mm256_loadu_pd(accb + j + 4), g1));
    _mm256_storeu_pd(accg + j, _mm256_fmadd_pd(_mm256_mul_pd(vr, g0), d0, _mm256_loadu_pd(accg + j)));
    _mm256_storeu_pd(accg + j + 4, _mm256_fmadd_pd(_mm256_mul_pd(vr, g1), d1, _mm256_loadu_pd(accg + j + 4)));
  }
  for (; j < len; j++) {
    accb[j] += dy[j];
    accg[j] += r * (double)dy[j] * ((double)(x[j] - m) - delta);
  }
}

}  // namespace mb
