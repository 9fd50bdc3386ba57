// conv_grouped.cc — grouped and depthwise convolution computed directly (see conv_grouped.h).
// Output-column bounds of each kernel tap are computed once per row, so the inner loops are plain
// strided scans without bounds tests.
#include "conv_grouped.h"

#include <algorithm>
#include <cstring>

#include "cpu.h"

namespace mb {

namespace {

// The output columns [lo, hi) for which tap j reads inside the input row (0 <= ow·s − pad + j·d < w).
inline void tap_range(int64_t j, const Conv2dShape& p, int64_t& lo, int64_t& hi) {
  const int64_t off = j * p.dw - p.pw;  // input column = ow·sw + off
  lo = off >= 0 ? 0 : (-off + p.sw - 1) / p.sw;
  const int64_t last = p.w - 1 - off;  // ow·sw <= last
  hi = last < 0 ? 0 : std::min<int64_t>(p.ow, last / p.sw + 1);
  if (hi < lo) hi = lo;
}

// Calls row(oh, ih, lo, hi, coff) for every output row oh whose tap (i, j) lands inside the input:
// ih is the input row, output columns [lo, hi) read input column ow·sw + coff.
template <class Row>
inline void for_tap_rows(const Conv2dShape& p, int64_t i, int64_t j, Row&& row) {
  int64_t lo, hi;
  tap_range(j, p, lo, hi);
  const int64_t coff = j * p.dw - p.pw;
  for (int64_t oh = 0; oh < p.oh; oh++) {
    const int64_t ih = oh * p.sh - p.ph + i * p.dh;
    if (ih < 0 || ih >= p.h) continue;
    row(oh, ih, lo, hi, coff);
  }
}

}  // namespace

void conv2d_grouped_forward(float* y, const float* x, const float* w, const float* bias, const Conv2dShape& p,
                            int64_t groups) {
  const int64_t cg = p.cin / groups, og = p.cout / groups, in = p.h * p.w, out = p.oh * p.ow;
  const int64_t planes = p.n * p.cout, taps = cg * p.kh * p.kw;
  [[maybe_unused]] const int nt = threads_for(planes * out * taps, kStreamGrain);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && planes > 1)
#endif
  for (int64_t pl = 0; pl < planes; pl++) {
    const int64_t n = pl / p.cout, co = pl % p.cout, g = co / og;
    float* yp = y + pl * out;
    const float b = bias ? bias[co] : 0.f;
    for (int64_t k = 0; k < out; k++) yp[k] = b;
    for (int64_t c = 0; c < cg; c++) {
      const float* xp = x + (n * p.cin + g * cg + c) * in;
      const float* wp = w + (co * cg + c) * p.kh * p.kw;
      for (int64_t i = 0; i < p.kh; i++) {
        for (int64_t j = 0; j < p.kw; j++) {
          const float wv = wp[i * p.kw + j];
          for_tap_rows(p, i, j, [&](int64_t oh, int64_t ih, int64_t lo, int64_t hi, int64_t coff) {
            const float* xr = xp + ih * p.w;
            float* yr = yp + oh * p.ow;
            for (int64_t ow = lo; ow < hi; ow++) yr[ow] += wv * xr[ow * p.sw + coff];
          });
        }
      }
    }
  }
}

void conv2d_grouped_backward(float* dx, float* dw, float* db, const float* x, const float* w, const float* dy,
                             const Conv2dShape& p, int64_t groups) {
  const int64_t cg = p.cin / groups, og = p.cout / groups, in = p.h * p.w, out = p.oh * p.ow;
  const int64_t khw = p.kh * p.kw;
  [[maybe_unused]] const int nt = threads_for(p.n * p.cout * out * cg * khw, kStreamGrain);
  // dw, db: one output channel per iteration, summed over n, rows and columns in a fixed order.
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && p.cout > 1)
#endif
  for (int64_t co = 0; co < p.cout; co++) {
    const int64_t g = co / og;
    if (db) {
      double s = 0;
      for (int64_t n = 0; n < p.n; n++) {
        const float* dyp = dy + (n * p.cout + co) * out;
        for (int64_t k = 0; k < out; k++) s += dyp[k];
      }
      db[co] += (float)s;
    }
    for (int64_t c = 0; c < cg; c++) {
      float* dwp = dw + (co * cg + c) * khw;
      for (int64_t i = 0; i < p.kh; i++) {
        for (int64_t j = 0; j < p.kw; j++) {
          float acc = 0.f;
          for (int64_t n = 0; n < p.n; n++) {
            const float* xp = x + (n * p.cin + g * cg + c) * in;
            const float* dyp = dy + (n * p.cout + co) * out;
            for_tap_rows(p, i, j, [&](int64_t oh, int64_t ih, int64_t lo, int64_t hi, int64_t coff) {
              const float* xr = xp + ih * p.w;
              const float* dr = dyp + oh * p.ow;
              float s = 0.f;
              for (int64_t ow = lo; ow < hi; ow++) s += dr[ow] * xr[ow * p.sw + coff];
              acc += s;
            });
          }
          dwp[i * p.kw + j] += acc;
        }
      }
    }
  }
  if (!dx) return;
  // dx: one (sample, group) per iteration; the group's input channels are written by it alone.
  const int64_t units = p.n * groups;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && units > 1)
#endif
  for (int64_t u = 0; u < units; u++) {
    const int64_t n = u / groups, g = u % groups;
    float* dxg = dx + (n * p.cin + g * cg) * in;
    std::memset(dxg, 0, sizeof(float) * (size_t)(cg * in));
    for (int64_t o = 0; o < og; o++) {
      const int64_t co = g * og + o;
      const float* dyp = dy + (n * p.cout + co) * out;
      for (int64_t c = 0; c < cg; c++) {
        float* dxp = dxg + c * in;
        const float* wp = w + (co * cg + c) * khw;
        for (int64_t i = 0; i < p.kh; i++) {
          for (int64_t j = 0; j < p.kw; j++) {
            const float wv = wp[i * p.kw + j];
            for_tap_rows(p, i, j, [&](int64_t oh, int64_t ih, int64_t lo, int64_t hi, int64_t coff) {
              float* xr = dxp + ih * p.w;
              const float* dr = dyp + oh * p.ow;
              for (int64_t ow = lo; ow < hi; ow++) xr[ow * p.sw + coff] += wv * dr[ow];
            });
          }
        }
      }
    }
  }
}

}  // namespace mb
