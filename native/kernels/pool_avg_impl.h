// pool_avg_impl.h — average pooling of one plane, written once over a vector type V and compiled in
// pool_avg_avx2.cc (8 floats) and pool_avg_avx512.cc (16 floats); the scalar reference is the plain
// window loop in pool.cc. Included only by those files.
//
// The window sum is separable: for output row oh, colsum[pw + iw] = Σ over the window's input rows
// of x[ih, iw] (vector adds along whole rows), then y[oh, ow] = Σ_kj colsum[ow·sw + kj] (contiguous
// loads for sw = 1, strided gathers otherwise) divided by the window's divisor, which is a product
// fh[oh] · fw[ow] (pool.h's rule, row and column factors). colsum is zero outside [pw, pw + w), so
// padding and ceil-mode overhang add nothing. The backward is the adjoint, row by row: g = dy / the
// divisor, rowg[ow·sw + kj] += g[ow] (vector adds for sw = 1), then dx[ih, :] += rowg[pw ...] for
// every input row of the window (vector adds). Sums run in a different order from the reference,
// so results agree to float rounding, not bit for bit.
//
// V provides: VL; T; add, mul, div, set1(f); and, for the first n <= VL lanes (others zero, nothing
// read or written past them): loadn(p, n), storen(p, v, n), load2n(p, n) (p[0], p[2], ..., reading
// p[0 .. 2n − 1) only), gathern(p, stride, n) and store2n(p, v, n) (p[2l] = p[2l + 1] = v[l]).
//
// When every window lies inside the input (no padding, no ceil-mode overhang) the forward sums the
// window straight from the input rows, and a 2×2 / 2 backward writes each gradient to its four
// inputs: no row buffer, whose store-then-reload (at shifted offsets) stalls store forwarding.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pool.h"

namespace mb::avgpool {

// Floats of the row buffer one plane needs: the padded width, or the last window's reach.
inline int64_t row_floats(const Pool2dShape& p) { return std::max(p.w + 2 * p.pw, (p.ow - 1) * p.sw + p.kw); }

// Clipped input rows [h0, h1) of output row oh.
inline void rows_of(const Pool2dShape& p, int64_t oh, int64_t& h0, int64_t& h1) {
  const int64_t s = oh * p.sh - p.ph;
  h0 = std::max<int64_t>(s, 0);
  h1 = std::min<int64_t>(s + p.kh, p.h);
}

// dst[0, n) += src[0, n)
template <class V>
inline void add_row(float* dst, const float* src, int64_t n) {
  for (int64_t i = 0; i < n; i += V::VL) {
    const int m = (int)std::min<int64_t>(V::VL, n - i);
    V::storen(dst + i, V::add(V::loadn(dst + i, m), V::loadn(src + i, m)), m);
  }
}

// Lanes l < n: b[l·sw]
template <class V>
inline typename V::T load_strided(const float* b, int64_t sw, int n) {
  if (sw == 1) return V::loadn(b, n);
  if (sw == 2) return V::load2n(b, n);
  return V::gathern(b, sw, n);
}

// Whether every window lies inside the input.
inline bool inside(const Pool2dShape& p) {
  return p.ph == 0 && p.pw == 0 && (p.oh - 1) * p.sh + p.kh <= p.h && (p.ow - 1) * p.sw + p.kw <= p.w;
}

// forward_plane when inside(p).
template <class V>
void forward_inside(float* y, const float* x, const Pool2dShape& p, const float* fh, const float* fw) {
  for (int64_t oh = 0; oh < p.oh; oh++) {
    const float* x0 = x + oh * p.sh * p.w;
    const typename V::T dh = V::set1(fh[oh]);
    for (int64_t ow = 0; ow < p.ow; ow += V::VL) {
      const int n = (int)std::min<int64_t>(V::VL, p.ow - ow);
      typename V::T s = V::set1(0.f);
      for (int64_t ki = 0; ki < p.kh; ki++) {
        const float* r = x0 + ki * p.w + ow * p.sw;
        for (int64_t kj = 0; kj < p.kw; kj++) s = V::add(s, load_strided<V>(r + kj, p.sw, n));
      }
      V::storen(y + oh * p.ow + ow, V::div(s, V::mul(dh, V::loadn(fw + ow, n))), n);
    }
  }
}

// y [oh, ow] from x [h, w]; buf: row_floats(p) floats; fh [oh], fw [ow]: the divisor factors.
template <class V>
void forward_plane(float* y, const float* x, const Pool2dShape& p, float* buf, const float* fh, const float* fw) {
  if (inside(p)) return forward_inside<V>(y, x, p, fh, fw);
  const int64_t nb = row_floats(p);
  std::memset(buf, 0, sizeof(float) * nb);
  float* cs = buf + p.pw;
  for (int64_t oh = 0; oh < p.oh; oh++) {
    int64_t h0, h1;
    rows_of(p, oh, h0, h1);
    if (h1 > h0) {
      std::memcpy(cs, x + h0 * p.w, sizeof(float) * p.w);
      for (int64_t ih = h0 + 1; ih < h1; ih++) add_row<V>(cs, x + ih * p.w, p.w);
    } else {
      std::memset(cs, 0, sizeof(float) * p.w);
    }
    float* yr = y + oh * p.ow;
    const typename V::T dh = V::set1(fh[oh]);
    for (int64_t ow = 0; ow < p.ow; ow += V::VL) {
      const int n = (int)std::min<int64_t>(V::VL, p.ow - ow);
      const float* b = buf + ow * p.sw;
      typename V::T s = load_strided<V>(b, p.sw, n);
      for (int64_t kj = 1; kj < p.kw; kj++) s = V::add(s, load_strided<V>(b + kj, p.sw, n));
      V::storen(yr + ow, V::div(s, V::mul(dh, V::loadn(fw + ow, n))), n);
    }
  }
}

// dx [h, w] (overwritten) from dy [oh, ow]; buf: row_floats(p) + ow floats; fh, fw as forward_plane.
template <class V>
void backward_plane(float* dx, const float* dy, const Pool2dShape& p, float* buf, const float* fh, const float* fw) {
  const int64_t nb = row_floats(p);
  float* g = buf + nb;
  std::memset(dx, 0, sizeof(float) * p.h * p.w);
  const bool two = inside(p) && p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2;
  for (int64_t oh = 0; oh < p.oh; oh++) {
    int64_t h0, h1;
    rows_of(p, oh, h0, h1);
    if (h1 <= h0) continue;
    const float* gr = dy + oh * p.ow;
    const typename V::T dh = V::set1(fh[oh]);
    for (int64_t ow = 0; ow < p.ow; ow += V::VL) {
      const int n = (int)std::min<int64_t>(V::VL, p.ow - ow);
      const typename V::T gv = V::div(V::loadn(gr + ow, n), V::mul(dh, V::loadn(fw + ow, n)));
      if (two) {
        V::store2n(dx + 2 * oh * p.w + 2 * ow, gv, n);
        V::store2n(dx + (2 * oh + 1) * p.w + 2 * ow, gv, n);
      } else {
        V::storen(g + ow, gv, n);
      }
    }
    if (two) continue;
    std::memset(buf, 0, sizeof(float) * nb);
    if (p.sw == 1) {
      for (int64_t kj = 0; kj < p.kw; kj++) add_row<V>(buf + kj, g, p.ow);
    } else {
      for (int64_t o = 0; o < p.ow; o++)
        for (int64_t kj = 0; kj < p.kw; kj++) buf[o * p.sw + kj] += g[o];
    }
    for (int64_t ih = h0; ih < h1; ih++) add_row<V>(dx + ih * p.w, buf + p.pw, p.w);
  }
}

}  // namespace mb::avgpool
