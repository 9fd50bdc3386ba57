// pool.cc — max and average pooling (see pool.h). Window bounds are computed once per output row
// and column; the inner loops are plain row scans.
#include "pool.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu.h"

namespace mb {

// 2×2 stride-2 max pooling (pool_avx2.cc, pool_avx512.cc): the forward over a chunk of consecutive
// planes in one call (reads stay before x_end), the backward by plane.
void max_pool2x2_planes_avx2(float* y, int32_t* am, const float* x, int64_t planes, int64_t h, int64_t w, int64_t oh,
                             int64_t ow, const float* x_end);
void max_pool2x2_planes_avx512(float* y, int32_t* am, const float* x, int64_t planes, int64_t h, int64_t w,
                               int64_t oh, int64_t ow, const float* x_end);
bool max_pool2x2_backward_plane_avx2(float* dx, const int32_t* am, const float* dy, int64_t h, int64_t w,
                                     int64_t oh, int64_t ow);
bool max_pool2x2_backward_plane_avx512(float* dx, const int32_t* am, const float* dy, int64_t h, int64_t w,
                                       int64_t oh, int64_t ow);

// One plane of average pooling (pool_avg_avx2.cc, pool_avg_avx512.cc; see pool_avg_impl.h).
using AvgPlane = void (*)(float*, const float*, const Pool2dShape&, float*, const float*, const float*);
void avg_pool_forward_plane_avx2(float*, const float*, const Pool2dShape&, float*, const float*, const float*);
void avg_pool_forward_plane_avx512(float*, const float*, const Pool2dShape&, float*, const float*, const float*);
void avg_pool_backward_plane_avx2(float*, const float*, const Pool2dShape&, float*, const float*, const float*);
void avg_pool_backward_plane_avx512(float*, const float*, const Pool2dShape&, float*, const float*, const float*);

namespace {

inline bool is_2x2_s2(const Pool2dShape& p) {
  // whole windows only (a ceil-mode output's last row or column would be a partial window)
  return p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.ph == 0 && p.pw == 0 && 2 * p.oh <= p.h &&
         2 * p.ow <= p.w;
}

// The SIMD kernels for 2×2 stride 2 (forward over a chunk of planes, backward by plane), or null on
// the scalar path.
using PlaneBwd = bool (*)(float*, const int32_t*, const float*, int64_t, int64_t, int64_t, int64_t);
using ChunkFwd = void (*)(float*, int32_t*, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, const float*);
ChunkFwd chunk_fwd_2x2() {
  return pick_simd<ChunkFwd>(MB_AVX512(max_pool2x2_planes_avx512), MB_AVX2(max_pool2x2_planes_avx2), nullptr);
}
PlaneBwd plane_bwd_2x2() {
  return pick_simd<PlaneBwd>(MB_AVX512(max_pool2x2_backward_plane_avx512), MB_AVX2(max_pool2x2_backward_plane_avx2), nullptr);
}

// The divisor of window (oh, ow) of average pooling (see Pool2dShape::count_include_pad).
inline float avg_divisor(const Pool2dShape& p, int64_t oh, int64_t ow, int64_t h0, int64_t h1, int64_t w0,
                         int64_t w1) {
  if (!p.count_include_pad) return (float)((h1 - h0) * (w1 - w0));
  const int64_t hs = oh * p.sh - p.ph, ws = ow * p.sw - p.pw;
  const int64_t he = std::min<int64_t>(hs + p.kh, p.h + p.ph), we = std::min<int64_t>(ws + p.kw, p.w + p.pw);
  return (float)((he - hs) * (we - ws));
}

// Clipped window [lo, hi) along one axis for output index o.
inline void window(int64_t o, int64_t s, int64_t pad, int64_t k, int64_t size, int64_t& lo, int64_t& hi) {
  const int64_t start = o * s - pad;
  lo = std::max<int64_t>(start, 0);
  hi = std::min<int64_t>(start + k, size);
}

}  // namespace

void max_pool2d_forward(float* y, int32_t* argmax, const float* x, const Pool2dShape& p) {
  const int64_t planes = p.n * p.c, in = p.h * p.w, out = p.oh * p.ow;
  [[maybe_unused]] const int nt = threads_for(planes * (in + out), kStreamGrain);
  if (const ChunkFwd chunk = is_2x2_s2(p) ? chunk_fwd_2x2() : nullptr) {
    // one contiguous chunk of planes a thread, so the kernel's unmasked steps never write past its own
    const int64_t parts = std::min<int64_t>(nt, planes), in_end = planes * in;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (parts > 1)
#endif
    for (int64_t t = 0; t < parts; t++) {
      const int64_t from = planes * t / parts, to = planes * (t + 1) / parts;
      chunk(y + from * out, argmax + from * out, x + from * in, to - from, p.h, p.w, p.oh, p.ow, x + in_end);
    }
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && planes > 1)
#endif
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * in;
    float* yp = y + pl * out;
    int32_t* ap = argmax + pl * out;
    if (is_2x2_s2(p)) {
      // The common 2×2 / stride 2 case: every window is whole; the same rule (first maximum in
      // row-major order, a NaN wins) as selects instead of branches.
      for (int64_t oh = 0; oh < p.oh; oh++) {
        const float* r0 = xp + 2 * oh * p.w;
        const float* r1 = r0 + p.w;
        const int32_t base = (int32_t)(2 * oh * p.w);
        for (int64_t ow = 0; ow < p.ow; ow++) {
          const int32_t c0 = base + (int32_t)(2 * ow);
          float best = r0[2 * ow];
          int32_t idx = c0;
          const float v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
          bool t = (v1 > best) | (v1 != v1);
          best = t ? v1 : best;
          idx = t ? c0 + 1 : idx;
          t = (v2 > best) | (v2 != v2);
          best = t ? v2 : best;
          idx = t ? c0 + (int32_t)p.w : idx;
          t = (v3 > best) | (v3 != v3);
          best = t ? v3 : best;
          idx = t ? c0 + (int32_t)p.w + 1 : idx;
          yp[oh * p.ow + ow] = best;
          ap[oh * p.ow + ow] = idx;
        }
      }
      continue;
    }
    for (int64_t oh = 0; oh < p.oh; oh++) {
      int64_t h0, h1;
      window(oh, p.sh, p.ph, p.kh, p.h, h0, h1);
      for (int64_t ow = 0; ow < p.ow; ow++) {
        int64_t w0, w1;
        window(ow, p.sw, p.pw, p.kw, p.w, w0, w1);
        float best = -std::numeric_limits<float>::infinity();
        int64_t idx = h0 * p.w + w0;
        for (int64_t ih = h0; ih < h1; ih++) {
          const float* r = xp + ih * p.w;
          for (int64_t iw = w0; iw < w1; iw++) {
            const float v = r[iw];
            if (v > best || std::isnan(v)) {
              best = v;
              idx = ih * p.w + iw;
            }
          }
        }
        yp[oh * p.ow + ow] = best;
        ap[oh * p.ow + ow] = (int32_t)idx;
      }
    }
  }
}

bool max_pool2d_backward(float* dx, const int32_t* argmax, const float* dy, const Pool2dShape& p) {
  const int64_t planes = p.n * p.c, in = p.h * p.w, out = p.oh * p.ow;
  [[maybe_unused]] const int nt = threads_for(planes * (in + out), kStreamGrain);
  const PlaneBwd simd = is_2x2_s2(p) ? plane_bwd_2x2() : nullptr;
  bool ok = true;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && planes > 1) reduction(&& : ok)
#endif
  for (int64_t pl = 0; pl < planes; pl++) {
    float* dp = dx + pl * in;
    const float* gp = dy + pl * out;
    const int32_t* ap = argmax + pl * out;
    // 2×2 stride 2 with every argmax inside its own window (as the forward leaves them): each input
    // written once, no zeroing pass; otherwise (or on the scalar path) zero and scatter.
    if (simd && simd(dp, ap, gp, p.h, p.w, p.oh, p.ow)) continue;
    std::memset(dp, 0, sizeof(float) * in);
    for (int64_t i = 0; i < out; i++) {
      const int32_t a = ap[i];
      if (a < 0 || a >= in) {
        ok = false;
        continue;
      }
      dp[a] += gp[i];
    }
  }
  return ok;
}

void avg_pool2d_forward_ref(float* y, const float* x, const Pool2dShape& p) {
  const int64_t planes = p.n * p.c, in = p.h * p.w, out = p.oh * p.ow;
  [[maybe_unused]] const int nt = threads_for(planes * (in + out), kStreamGrain);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && planes > 1)
#endif
  for (int64_t pl = 0; pl < planes; pl++) {
    const float* xp = x + pl * in;
    float* yp = y + pl * out;
    for (int64_t oh = 0; oh < p.oh; oh++) {
      int64_t h0, h1;
      window(oh, p.sh, p.ph, p.kh, p.h, h0, h1);
      for (int64_t ow = 0; ow < p.ow; ow++) {
        int64_t w0, w1;
        window(ow, p.sw, p.pw, p.kw, p.w, w0, w1);
        float s = 0.f;
        for (int64_t ih = h0; ih < h1; ih++) {
          const float* r = xp + ih * p.w;
          for (int64_t iw = w0; iw < w1; iw++) s += r[iw];
        }
        yp[oh * p.ow + ow] = s / avg_divisor(p, oh, ow, h0, h1, w0, w1);
      }
    }
  }
}

void avg_pool2d_backward_ref(float* dx, const float* dy, const Pool2dShape& p) {
  const int64_t planes = p.n * p.c, in = p.h * p.w, out = p.oh * p.ow;
  [[maybe_unused]] const int nt = threads_for(planes * (in + out), kStreamGrain);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && planes > 1)
#endif
  for (int64_t pl = 0; pl < planes; pl++) {
    float* dp = dx + pl * in;
    const float* gp = dy + pl * out;
    std::memset(dp, 0, sizeof(float) * in);
    for (int64_t oh = 0; oh < p.oh; oh++) {
      int64_t h0, h1;
      window(oh, p.sh, p.ph, p.kh, p.h, h0, h1);
      for (int64_t ow = 0; ow < p.ow; ow++) {
        int64_t w0, w1;
        window(ow, p.sw, p.pw, p.kw, p.w, w0, w1);
        const float g = gp[oh * p.ow + ow] / avg_divisor(p, oh, ow, h0, h1, w0, w1);
        for (int64_t ih = h0; ih < h1; ih++) {
          float* r = dp + ih * p.w;
          for (int64_t iw = w0; iw < w1; iw++) r[iw] += g;
        }
      }
    }
  }
}

namespace {

// The divisor factors of every output row and column: divisor(oh, ow) = fh[oh] · fw[ow].
void avg_factors(const Pool2dShape& p, std::vector<float>& fh, std::vector<float>& fw) {
  fh.resize((size_t)p.oh);
  fw.resize((size_t)p.ow);
  auto factor = [&p](int64_t o, int64_t s, int64_t pad, int64_t k, int64_t size) {
    int64_t lo, hi;
    window(o, s, pad, k, size, lo, hi);
    if (!p.count_include_pad) return (float)(hi - lo);
    const int64_t st = o * s - pad;
    return (float)(std::min<int64_t>(st + k, size + pad) - st);
  };
  for (int64_t o = 0; o < p.oh; o++) fh[(size_t)o] = factor(o, p.sh, p.ph, p.kh, p.h);
  for (int64_t o = 0; o < p.ow; o++) fw[(size_t)o] = factor(o, p.sw, p.pw, p.kw, p.w);
}

AvgPlane avg_plane(bool backward) {
  if (backward) return pick_simd<AvgPlane>(MB_AVX512(avg_pool_backward_plane_avx512), MB_AVX2(avg_pool_backward_plane_avx2), nullptr);
  return pick_simd<AvgPlane>(MB_AVX512(avg_pool_forward_plane_avx512), MB_AVX2(avg_pool_forward_plane_avx2), nullptr);
}

// Planes over threads, each thread with its own row buffer (allocated once per call).
void avg_planes(AvgPlane fn, float* out, const float* in, const Pool2dShape& p, bool backward) {
  std::vector<float> fh, fw;
  avg_factors(p, fh, fw);
  const int64_t planes = p.n * p.c, isz = p.h * p.w, osz = p.oh * p.ow;
  const size_t buf = (size_t)(std::max(p.w + 2 * p.pw, (p.ow - 1) * p.sw + p.kw) + p.ow);
  [[maybe_unused]] const int nt = threads_for(planes * (isz + osz), kStreamGrain);
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) if (nt > 1 && planes > 1)
#endif
  {
    std::vector<float> b(buf);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
    for (int64_t pl = 0; pl < planes; pl++) {
      if (backward)
        fn(out + pl * isz, in + pl * osz, p, b.data(), fh.data(), fw.data());
      else
        fn(out + pl * osz, in + pl * isz, p, b.data(), fh.data(), fw.data());
    }
  }
}

}  // namespace

void avg_pool2d_forward(float* y, const float* x, const Pool2dShape& p) {
  if (AvgPlane fn = avg_plane(false)) return avg_planes(fn, y, x, p, false);
  avg_pool2d_forward_ref(y, x, p);
}

void avg_pool2d_backward(float* dx, const float* dy, const Pool2dShape& p) {
  if (AvgPlane fn = avg_plane(true)) return avg_planes(fn, dx, dy, p, true);
  avg_pool2d_backward_ref(dx, dy, p);
}

}  // namespace mb
