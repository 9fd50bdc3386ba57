// conv_direct.cc — the direct convolution driver (padding, weight panels, tiles, threads) and the
// scalar reference tile kernel (see conv_direct.h).
#include "conv_direct.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

namespace {

// The widest tile any kernel uses: workspace sizes are computed for it, whatever the SIMD level.
constexpr int64_t kMaxMr = 8;
constexpr int64_t kMaxVl = 16;
// Longest reduction run direct (the tile's weight panel, MR·K floats, stays within L2).
constexpr int64_t kMaxK = 4096;
// Multiply-adds one thread should at least get before another is woken.
constexpr int64_t kGrain = int64_t(1) << 20;

using TileFn = void (*)(const DirectTile&);
struct Geo {
  int64_t mr, vl;
  TileFn fn;
};

Geo geo_of(bool ref) {
  if (!ref) {
#ifdef MB_HAVE_AVX512_TU
    if (simd_level() == Simd::Avx512) return {8, 16, conv_direct_tile_avx512};
#endif
#ifdef MB_HAVE_AVX2_TU
    if (simd_level() >= Simd::Avx2) return {4, 8, conv_direct_tile_avx2};
#endif
  }
  return {4, 8, conv_direct_tile_ref};
}

// One direct convolution with unit column stride: input planes [n, cin, h, w], padded by padt rows
// and padl columns into [cin, hp, wp], output [n, cout, oh, ow]. weight(co, k) gives W[co, k].
struct Job {
  int64_t n, cin, h, w, cout;
  int64_t padt, padl, hp, wp;
  int64_t kh, kw, sh, dh, dw;
  int64_t oh, ow;
  int64_t K() const { return cin * kh * kw; }
  size_t pad_floats() const { return (size_t)(cin * hp * wp + kMaxVl); }
  size_t panel_floats() const { return (size_t)((cout + kMaxMr - 1) / kMaxMr * kMaxMr * K()); }
};

Job forward_job(const Conv2dShape& p) {
  return Job{p.n, p.cin, p.h, p.w, p.cout, p.ph, p.pw, p.h + 2 * p.ph, p.w + 2 * p.pw,
             p.kh, p.kw, p.sh, p.dh, p.dw, p.oh, p.ow};
}

// The input gradient as a convolution of dy (see conv_direct.h).
Job dx_job(const Conv2dShape& p) {
  const int64_t pt = p.dh * (p.kh - 1) - p.ph, pl = p.dw * (p.kw - 1) - p.pw;
  return Job{p.n, p.cout, p.oh, p.ow, p.cin, pt, pl, p.oh + 2 * pt, p.ow + 2 * pl,
             p.kh, p.kw, 1, p.dh, p.dw, p.h, p.w};
}

// Whether ow output columns and cout output channels fill at least 60% of the tile's vector lanes and
// of its channel rows.
bool tiles_fill(int64_t ow, int64_t cout) {
  const Geo g = geo_of(false);
  const int64_t lanes = (ow + g.vl - 1) / g.vl * g.vl, rows = (cout + g.mr - 1) / g.mr * g.mr;
  return ow * 10 >= lanes * 6 && cout * 10 >= rows * 6;
}

// The zero border of one padded image: every float of dst [cin, hp, wp] (+ kMaxVl of slack) that
// pad_interior never writes. Each thread's buffer gets it once per call; the samples it then takes
// overwrite only the interior.
void pad_border(float* dst, const Job& j) {
  const int64_t right = j.wp - j.padl - j.w;
  for (int64_t c = 0; c < j.cin; c++) {
    float* d = dst + c * j.hp * j.wp;
    std::memset(d, 0, sizeof(float) * j.padt * j.wp);
    d += j.padt * j.wp;
    for (int64_t r = 0; r < j.h; r++, d += j.wp) {
      std::memset(d, 0, sizeof(float) * j.padl);
      std::memset(d + j.padl + j.w, 0, sizeof(float) * right);
    }
    std::memset(d, 0, sizeof(float) * (j.hp - j.padt - j.h) * j.wp);
  }
  std::memset(dst + j.cin * j.hp * j.wp, 0, sizeof(float) * kMaxVl);
}

// One sample's rows into the interior of a padded image whose border pad_border wrote. The rows are
// short (14 or 28 floats in the MNIST CNN) and there are cin·h of them: an inline loop, not a libc
// call per row (which cost about a tenth of the MNIST CNN's convolution time). The attribute keeps
// GCC from turning the loop back into memcpy calls.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
void pad_interior(float* __restrict dst, const float* __restrict src, const Job& j) {
  if (j.padl == 0 && j.wp == j.w) {  // rows are contiguous: one block per channel
    for (int64_t c = 0; c < j.cin; c++)
      std::memcpy(dst + c * j.hp * j.wp + j.padt * j.wp, src + c * j.h * j.w, sizeof(float) * j.h * j.w);
    return;
  }
  for (int64_t c = 0; c < j.cin; c++) {
    float* d = dst + c * j.hp * j.wp + j.padt * j.wp + j.padl;
    const float* s = src + c * j.h * j.w;
    for (int64_t r = 0; r < j.h; r++, d += j.wp, s += j.w)
      for (int64_t i = 0; i < j.w; i++) d[i] = s[i];
  }
}

// ap [ceil(cout/mr)][K][mr] = weight(co, k), rows past cout zero.
template <class Weight>
void pack_panels(float* ap, const Job& j, int64_t mr, Weight weight) {
  const int64_t K = j.K();
  for (int64_t cb = 0; cb * mr < j.cout; cb++) {
    float* panel = ap + cb * mr * K;
    for (int64_t r = 0; r < mr; r++) {
      const int64_t co = cb * mr + r;
      for (int64_t k = 0; k < K; k++) panel[k * mr + r] = co < j.cout ? weight(co, k) : 0.f;
    }
  }
}

// Channel blocks [cb0, cb1) of one sample, each over every vector group of the plane (a group: 3
// consecutive vectors in row-major order, each VL columns of one output row).
void run_tiles(float* yn, const float* pad, const float* ap, const int64_t* off, const float* bias, bool relu,
               const Job& j, const Geo& g, int64_t cb0, int64_t cb1) {
  const int64_t K = j.K(), P = j.oh * j.ow, segs = (j.ow + g.vl - 1) / g.vl, nvec = j.oh * segs;
  DirectTile t{};
  t.k = K;
  t.off = off;
  t.ystride = P;
  t.relu = relu;
  for (int64_t cb = cb0; cb < cb1; cb++) {
    t.ap = ap + cb * g.mr * K;
    t.rows = (int)std::min(g.mr, j.cout - cb * g.mr);
    t.bias = bias ? bias + cb * g.mr : nullptr;
    float* yb = yn + cb * g.mr * P;
    int64_t oh = 0, seg = 0;  // the next vector
    for (int64_t v0 = 0; v0 < nvec; v0 += 3) {
      t.nv = (int)std::min<int64_t>(3, nvec - v0);
      for (int v = 0; v < t.nv; v++) {
        const int64_t ow0 = seg * g.vl;
        t.xb[v] = pad + oh * j.sh * j.wp + ow0;
        t.yb[v] = yb + oh * j.ow + ow0;
        t.lanes[v] = (int)std::min(g.vl, j.ow - ow0);
        if (++seg == segs) seg = 0, oh++;
      }
      g.fn(t);
    }
  }
}

// run_tiles for the pooled forward: one tile per row pair and vector column, writing pooled rows.
void run_pool_tiles(float* yn, const float* pad, const float* ap, const int64_t* off, const float* bias, bool relu,
                    const Job& j, const Geo& g, int64_t cb0, int64_t cb1) {
  const int64_t K = j.K(), ph = j.oh / 2, pw = j.ow / 2, PP = ph * pw;
  DirectTile t{};
  t.k = K;
  t.off = off;
  t.ystride = PP;
  t.relu = relu;
  t.pool = true;
  t.nv = 2;
  for (int64_t cb = cb0; cb < cb1; cb++) {
    t.ap = ap + cb * g.mr * K;
    t.rows = (int)std::min(g.mr, j.cout - cb * g.mr);
    t.bias = bias ? bias + cb * g.mr : nullptr;
    for (int64_t i = 0; i < ph; i++)
      for (int64_t ow0 = 0; ow0 < 2 * pw; ow0 += g.vl) {
        t.xb[0] = pad + 2 * i * j.sh * j.wp + ow0;
        t.xb[1] = t.xb[0] + j.sh * j.wp;
        t.yb[0] = yn + cb * g.mr * PP + i * pw + ow0 / 2;
        t.lanes[0] = t.lanes[1] = (int)std::min(g.vl, 2 * pw - ow0);
        g.fn(t);
      }
  }
}

// The whole job: weights packed into the front of ws, then one padded image per thread.
template <class Weight>
void run_job(float* y, const float* x, Weight weight, const float* bias, float* ws, size_t ws_len, const Job& j,
             bool relu, const Geo& g, bool pool = false) {
  const int64_t K = j.K();
  float* ap = ws;
  pack_panels(ap, j, g.mr, weight);
  std::vector<int64_t> off((size_t)K);
  for (int64_t c = 0, k = 0; c < j.cin; c++)
    for (int64_t ki = 0; ki < j.kh; ki++)
      for (int64_t kj = 0; kj < j.kw; kj++) off[(size_t)k++] = c * j.hp * j.wp + ki * j.dh * j.wp + kj * j.dw;
  float* pads = ws + j.panel_floats();
  const size_t pf = j.pad_floats();
  const int64_t slots = (int64_t)((ws_len - j.panel_floats()) / pf);
  const int64_t xs = j.cin * j.h * j.w, ys = pool ? j.cout * (j.oh / 2) * (j.ow / 2) : j.cout * j.oh * j.ow;
  const auto tiles = pool ? run_pool_tiles : run_tiles;
  const int64_t blocks = (j.cout + g.mr - 1) / g.mr;
  const int64_t work = j.cout * j.oh * j.ow * K;  // multiply-adds of one sample
  const int nt = (int)std::max<int64_t>(1, std::min<int64_t>(threads_for(j.n * work, kGrain), slots));
  if (nt > 1 && j.n >= nt) {  // samples over threads, each with its own padded image
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
    {
      float* pad = pads + (size_t)thread_id() * pf;
      pad_border(pad, j);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
      for (int64_t s = 0; s < j.n; s++) {
        pad_interior(pad, x + s * xs, j);
        tiles(y + s * ys, pad, ap, off.data(), bias, relu, j, g, 0, blocks);
      }
    }
    return;
  }
  const int tn = (int)std::min<int64_t>(threads_for(work, kGrain), blocks);
  pad_border(pads, j);
  for (int64_t s = 0; s < j.n; s++) {  // few samples: one padded image, its channel blocks over threads
    pad_interior(pads, x + s * xs, j);
#ifdef _OPENMP
#pragma omp parallel for num_threads(tn) schedule(static) if (tn > 1)
#endif
    for (int64_t cb = 0; cb < blocks; cb++) tiles(y + s * ys, pads, ap, off.data(), bias, relu, j, g, cb, cb + 1);
  }
}

void forward_with(float* y, const float* x, const float* w, const float* bias, float* ws, size_t ws_len,
                  const Conv2dShape& p, bool relu, const Geo& g, bool pool = false) {
  const Job j = forward_job(p);
  const int64_t K = j.K();
  run_job(y, x, [w, K](int64_t co, int64_t k) { return w[co * K + k]; }, bias, ws, ws_len, j, relu, g, pool);
}

}  // namespace

bool conv2d_direct_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("MINIBATCH_CONV_DIRECT");
    return !(e && e[0] == '0');
  }();
  return on;
}

bool conv2d_direct_forward_fits(const Conv2dShape& p) {
  return conv2d_direct_enabled() && p.sw == 1 && !conv2d_is_pointwise(p) && p.cin * p.kh * p.kw <= kMaxK && tiles_fill(p.ow, p.cout);
}

bool conv2d_direct_dx_fits(const Conv2dShape& p) {
  return conv2d_direct_enabled() && p.sh == 1 && p.sw == 1 && !conv2d_is_pointwise(p) && p.ph <= p.dh * (p.kh - 1) &&
         p.pw <= p.dw * (p.kw - 1) && p.cout * p.kh * p.kw <= kMaxK && tiles_fill(p.w, p.cin);
}

size_t conv2d_direct_workspace(const Conv2dShape& p, int nthreads, bool dx) {
  const Job j = dx ? dx_job(p) : forward_job(p);
  const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(nthreads, j.n));
  return j.panel_floats() + (size_t)slots * j.pad_floats();
}

double conv2d_direct_workspace_bound(const Conv2dShape& p, int nthreads) {
  const double t = (double)std::max(1, nthreads);
  const double K = (double)p.cin * p.kh * p.kw, Kt = (double)p.cout * p.kh * p.kw;
  const double fwd = ((double)p.cout + kMaxMr) * K + t * ((double)p.cin * (p.h + 2.0 * p.ph) * (p.w + 2.0 * p.pw) + kMaxVl);
  const double bh = (double)p.oh + 2.0 * p.dh * p.kh, bw = (double)p.ow + 2.0 * p.dw * p.kw;
  const double bwd = ((double)p.cin + kMaxMr) * Kt + t * ((double)p.cout * bh * bw + kMaxVl);
  return std::max(fwd, bwd);
}

void conv2d_direct_forward(float* y, const float* x, const float* w, const float* bias, float* ws, size_t ws_len,
                           const Conv2dShape& p, bool relu) {
  forward_with(y, x, w, bias, ws, ws_len, p, relu, geo_of(false));
}

void conv2d_direct_forward_pool(float* y, const float* x, const float* w, const float* bias, float* ws,
                                size_t ws_len, const Conv2dShape& p, bool relu, bool ref) {
  forward_with(y, x, w, bias, ws, ws_len, p, relu, geo_of(ref), true);
}

void conv2d_direct_forward_ref(float* y, const float* x, const float* w, const float* bias, float* ws, size_t ws_len,
                               const Conv2dShape& p, bool relu) {
  forward_with(y, x, w, bias, ws, ws_len, p, relu, geo_of(true));
}

void conv2d_direct_dx(float* dx, const float* w, const float* dy, float* ws, size_t ws_len, const Conv2dShape& p) {
  const Job j = dx_job(p);
  const int64_t taps = p.kh * p.kw, cin = p.cin, kh = p.kh, kw = p.kw;
  // W'[c, (co, ki, kj)] = w[co, c, KH-1-ki, KW-1-kj]
  auto weight = [w, taps, cin, kh, kw](int64_t c, int64_t k) {
    const int64_t co = k / taps, t = k % taps, ki = t / kw, kj = t % kw;
    return w[((co * cin + c) * kh + (kh - 1 - ki)) * kw + (kw - 1 - kj)];
  };
  run_job(dx, dy, weight, nullptr, ws, ws_len, j, false, geo_of(false));
}

// ------------------------------------------------------------------------- the reference tile

void conv_direct_tile_ref(const DirectTile& t) {
  constexpr int MR = 4, VL = 8;
  float acc[MR][3][VL];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < 3; v++)
      for (int l = 0; l < VL; l++) acc[r][v][l] = t.bias && r < t.rows ? t.bias[r] : 0.f;
  for (int64_t k = 0; k < t.k; k++) {
    const float* a = t.ap + k * MR;
    for (int v = 0; v < t.nv; v++) {
      const float* b = t.xb[v] + t.off[k];
      for (int r = 0; r < MR; r++)
        for (int l = 0; l < VL; l++) acc[r][v][l] += a[r] * b[l];
    }
  }
  auto act = [&t](float v) { return t.relu && v < 0.f ? 0.f : v; };  // NaN stays NaN
  if (t.pool) {  // max over rows 0, 1 and lanes 2l, 2l + 1; a NaN wins
    auto mx = [](float a, float b) { return (a > b || a != a) ? a : b; };
    for (int r = 0; r < t.rows; r++)
      for (int l = 0; l < t.lanes[0] / 2; l++) {
        const float m = mx(mx(acc[r][0][2 * l], acc[r][0][2 * l + 1]), mx(acc[r][1][2 * l], acc[r][1][2 * l + 1]));
        t.yb[0][r * t.ystride + l] = act(m);
      }
    return;
  }
  for (int r = 0; r < t.rows; r++)
    for (int v = 0; v < t.nv; v++) {
      float* yv = t.yb[v] + r * t.ystride;
      for (int l = 0; l < t.lanes[v]; l++) yv[l] = act(acc[r][v][l]);
    }
}

}  // namespace mb
