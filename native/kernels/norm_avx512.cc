// norm_avx512.cc — AVX-512 forms of the BatchNorm/GroupNorm run primitives (compiled with the
// AVX-512 flags only; chosen by norm_prims.h when simd_level() == Avx512): the moments and backward
// dot reductions over contiguous runs, and the two elementwise passes. The column forms stay AVX2.
//
// Why these four: on one core the double-precision statistics pass was compute-bound (a float→double
// conversion and a double add or FMA for every value): profiling on one Zen 4 core, moments that
// convert every value read an 8 MiB tensor at 27 GB/s against 80-97 GB/s for a plain read, these
// at 50-58 GB/s. Here each lane sums at most 11 values in float (shifted by the channel's first
// value, so terms are small and the float error is that of a few terms), and only those partial
// sums go to double: a quarter of the conversions. The additions' order depends only on the run length, so results are
// deterministic and independent of the thread count, as everywhere in norm*.
#include <immintrin.h>

#include "norm.h"
#include "vdouble_avx512.h"

namespace mb {

namespace {

using avx512::hsum;
using avx512::widen_hi;
using avx512::widen_lo;

// Floats a moments step reads (each lane of a float partial sum: 2 values a step), and the steps
// after which the float partial sums are added to the double accumulators (moments and dot).
constexpr int64_t kStep = 64;
constexpr int kStepsPerFlush = 4;

}  // namespace

void norm_moments_runs_avx512(double* s1, double* s2, const float* x, int64_t blocks, int64_t len, int64_t stride,
                              float shift) {
  const __m512 vs = _mm512_set1_ps(shift);
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0, q0 = a0, q1 = a0, q2 = a0, q3 = a0;
  double ta = 0, tq = 0;
  for (int64_t b = 0; b < blocks; b++) {
    const float* p = x + b * stride;
    int64_t k = 0;
    while (k + 16 <= len) {
      __m512 f0 = _mm512_setzero_ps(), f1 = f0, g0 = f0, g1 = f0, g2 = f0, g3 = f0;
      for (int r = 0; r < kStepsPerFlush && k + kStep <= len; r++, k += kStep) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + k), vs);
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(p + k + 16), vs);
        const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(p + k + 32), vs);
        const __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(p + k + 48), vs);
        f0 = _mm512_add_ps(f0, _mm512_add_ps(d0, d2));
        f1 = _mm512_add_ps(f1, _mm512_add_ps(d1, d3));
        g0 = _mm512_fmadd_ps(d0, d0, g0);
        g1 = _mm512_fmadd_ps(d1, d1, g1);
        g2 = _mm512_fmadd_ps(d2, d2, g2);
        g3 = _mm512_fmadd_ps(d3, d3, g3);
      }
      g0 = _mm512_add_ps(g0, g2);
      g1 = _mm512_add_ps(g1, g3);
      if (k + kStep > len) {
        // fewer than 64 left: 16 at a time into the same partial sums (at most 3 more terms a lane)
        for (; k + 16 <= len; k += 16) {
          const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(p + k), vs);
          f0 = _mm512_add_ps(f0, d);
          g0 = _mm512_fmadd_ps(d, d, g0);
        }
      }
      a0 = _mm512_add_pd(a0, widen_lo(f0));
      a1 = _mm512_add_pd(a1, widen_hi(f0));
      a2 = _mm512_add_pd(a2, widen_lo(f1));
      a3 = _mm512_add_pd(a3, widen_hi(f1));
      q0 = _mm512_add_pd(q0, widen_lo(g0));
      q1 = _mm512_add_pd(q1, widen_hi(g0));
      q2 = _mm512_add_pd(q2, widen_lo(g1));
      q3 = _mm512_add_pd(q3, widen_hi(g1));
    }
    for (; k < len; k++) {
      const double d = (double)(p[k] - shift);
      ta += d;
      tq += d * d;
    }
  }
  *s1 = hsum(_mm512_add_pd(_mm512_add_pd(a0, a1), _mm512_add_pd(a2, a3))) + ta;
  *s2 = hsum(_mm512_add_pd(_mm512_add_pd(q0, q1), _mm512_add_pd(q2, q3))) + tq;
}

void norm_dot_runs_avx512(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t blocks,
                          int64_t len, int64_t stride, float m) {
  const __m512 vm = _mm512_set1_ps(m);
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, q0 = a0, q1 = a0, e0 = a0, e1 = a0;
  double ta = 0, tq = 0, te = 0;
  for (int64_t b = 0; b < blocks; b++) {
    const float *g = dy + b * stride, *p = x + b * stride;
    int64_t k = 0;
    while (k + 16 <= len) {
      __m512 gs = _mm512_setzero_ps(), ps = gs, ds = gs;
      for (int r = 0; r < kStepsPerFlush && k + 32 <= len; r++, k += 32) {
        const __m512 g0 = _mm512_loadu_ps(g + k), g1 = _mm512_loadu_ps(g + k + 16);
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + k), vm);
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(p + k + 16), vm);
        gs = _mm512_add_ps(gs, _mm512_add_ps(g0, g1));
        // the products are rounded to float before they are added, as in the other forms
        ps = _mm512_add_ps(ps, _mm512_add_ps(_mm512_mul_ps(g0, d0), _mm512_mul_ps(g1, d1)));
        ds = _mm512_add_ps(ds, _mm512_add_ps(d0, d1));
      }
      if (k + 32 > len && k + 16 <= len) {
        const __m512 g0 = _mm512_loadu_ps(g + k);
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(p + k), vm);
        gs = _mm512_add_ps(gs, g0);
        ps = _mm512_add_ps(ps, _mm512_mul_ps(g0, d0));
        ds = _mm512_add_ps(ds, d0);
        k += 16;
      }
      a0 = _mm512_add_pd(a0, widen_lo(gs));
      a1 = _mm512_add_pd(a1, widen_hi(gs));
      q0 = _mm512_add_pd(q0, widen_lo(ps));
      q1 = _mm512_add_pd(q1, widen_hi(ps));
      e0 = _mm512_add_pd(e0, widen_lo(ds));
      e1 = _mm512_add_pd(e1, widen_hi(ds));
    }
    for (; k < len; k++) {
      const float d = p[k] - m;
      ta += g[k];
      tq += (double)(g[k] * d);
      te += d;
    }
  }
  *sdy = hsum(_mm512_add_pd(a0, a1)) + ta;
  *sdyx = hsum(_mm512_add_pd(q0, q1)) + tq;
  *sx = hsum(_mm512_add_pd(e0, e1)) + te;
}

void norm_affine_avx512(float* y, const float* x, int64_t len, float m, float a, float b) {
  const __m512 vm = _mm512_set1_ps(m), va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b);
  int64_t k = 0;
  for (; k + 32 <= len; k += 32) {
    const __m512 u = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_loadu_ps(x + k), vm), va, vb);
    const __m512 v = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_loadu_ps(x + k + 16), vm), va, vb);
    _mm512_storeu_ps(y + k, u);
    _mm512_storeu_ps(y + k + 16, v);
  }
  if (k < len) {
    // the rest (up to 31) in one or two masked steps: the same arithmetic lane by lane
    for (; k < len; k += 16) {
      const __mmask16 t = len - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (len - k)) - 1);
      _mm512_mask_storeu_ps(y + k, t, _mm512_fmadd_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(t, x + k), vm), va, vb));
    }
  }
}

void norm_bwd_avx512(float* dx, const float* dy, const float* x, int64_t len, float m, float k1, float k2, float k3) {
  const __m512 vm = _mm512_set1_ps(m), v1 = _mm512_set1_ps(k1), v2 = _mm512_set1_ps(k2), v3 = _mm512_set1_ps(k3);
  auto one = [&](__m512 g, __m512 p) { return _mm512_fmadd_ps(v1, g, _mm512_fmadd_ps(v2, _mm512_sub_ps(p, vm), v3)); };
  int64_t k = 0;
  for (; k + 32 <= len; k += 32) {
    const __m512 u = one(_mm512_loadu_ps(dy + k), _mm512_loadu_ps(x + k));
    const __m512 v = one(_mm512_loadu_ps(dy + k + 16), _mm512_loadu_ps(x + k + 16));
    _mm512_storeu_ps(dx + k, u);
    _mm512_storeu_ps(dx + k + 16, v);
  }
  for (; k < len; k += 16) {
    const __mmask16 t = len - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (len - k)) - 1);
    _mm512_mask_storeu_ps(dx + k, t, one(_mm512_maskz_loadu_ps(t, dy + k), _mm512_maskz_loadu_ps(t, x + k)));
  }
}

}  // namespace mb
