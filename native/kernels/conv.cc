// conv.cc — im2col/col2im and the chunked convolution drivers around mb::sgemm (see conv.h).
#include "conv.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "conv_direct.h"
#include "conv_direct_dw.h"
#include "cpu.h"
#include "gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

namespace {

// Columns a chunk aims for: wide enough that the GEMM runs on whole register tiles and amortises its
// packing, small enough that the chunk's cols block stays in the last-level cache.
constexpr int64_t kChunkCols = 1536;
// At most this many dW partials, and at most kPartialFloats floats of them in all.
constexpr int64_t kMaxGroups = 8;
constexpr int64_t kPartialFloats = int64_t(1) << 21;

inline int64_t kdim(const Conv2dShape& p) { return p.cin * p.kh * p.kw; }
inline int64_t pdim(const Conv2dShape& p) { return p.oh * p.ow; }

// How a call is cut, from the shape alone (never from the thread count or the workspace).
struct Plan {
  int64_t S;       // samples per chunk (the last chunk may hold fewer)
  int64_t chunks;  // ceil(n / S)
  int64_t groups;  // dW partial sums (1: accumulate straight into dw)
  bool direct;     // S == 1 and pointwise: the GEMM reads x and dy in place, no cols buffer
  size_t slot;     // floats of one thread's scratch: cols [K, S·P] and a [Co, S·P] output/gradient block
  bool dwT;        // dW computed transposed, dWᵀ[K, Co] = cols_c · dY_cᵀ, into partials (see dw_transposed)
  size_t partials; // floats of the dW partials: groups · Co · K (0 when one group sums into dw itself)
};

// Whether dW wastes less of the GEMM's register tiles computed transposed (M = K, N = Co) than as
// dW[Co, K] (M = Co, N = K): with the 12 × 32 tile, Co = 32 and K = 144 pad to 36 × 160 one way and
// 144 × 32 the other.
bool dw_transposed(const Conv2dShape& p) {
  const GemmBlocks b = sgemm_blocks(simd_level() == Simd::Avx512);
  const int64_t K = kdim(p);
  auto up = [](int64_t v, int64_t r) { return (v + r - 1) / r * r; };
  return up(K, b.mr) * up(p.cout, b.nr) < up(p.cout, b.mr) * up(K, b.nr);
}

Plan plan_of(const Conv2dShape& p) {
  Plan pl;
  const int64_t P = pdim(p), K = kdim(p);
  const int64_t want = std::max<int64_t>(1, std::min<int64_t>(p.n, (kChunkCols + P - 1) / P));
  pl.chunks = (p.n + want - 1) / want;
  pl.S = (p.n + pl.chunks - 1) / pl.chunks;  // the same chunk count, chunks as even as it allows
  pl.chunks = (p.n + pl.S - 1) / pl.S;
  const int64_t ck = p.cout * K;
  pl.groups = std::max<int64_t>(1, std::min<int64_t>({pl.chunks, kMaxGroups, kPartialFloats / std::max<int64_t>(ck, 1)}));
  pl.direct = pl.S == 1 && conv2d_is_pointwise(p);
  pl.slot = pl.direct ? 0 : (size_t)(K + p.cout) * pl.S * P;
  pl.dwT = !pl.direct && ck <= kPartialFloats && dw_transposed(p);
  pl.partials = pl.groups > 1 || pl.dwT ? (size_t)pl.groups * ck : 0;
  return pl;
}

// Scratch slots the workspace holds beside the partials (0 when it is too short for one).
int64_t slots_in(const Plan& pl, size_t ws_len) {
  if (ws_len < pl.partials + pl.slot) return 0;
  return pl.slot == 0 ? INT64_MAX : (int64_t)((ws_len - pl.partials) / pl.slot);
}

// The output columns ow whose input column ow·sw + off lies inside [0, w): [lo, hi).
inline void valid_range(int64_t off, int64_t stride, int64_t w, int64_t ow, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = (w - 1 - off) < 0 ? 0 : (w - 1 - off) / stride + 1;
  lo = std::min(lo, ow);
  hi = std::min(hi, ow);
  if (hi < lo) hi = lo;
}

// im2col of one channel: xc [h, w] into its kh·kw rows of cols (row stride ld, each row P values).
void im2col_channel(float* cols, int64_t ld, const float* xc, const Conv2dShape& p) {
  const int64_t OW = p.ow;
  for (int64_t ki = 0; ki < p.kh; ki++)
    for (int64_t kj = 0; kj < p.kw; kj++) {
      float* row = cols + (ki * p.kw + kj) * ld;
      const int64_t off = kj * p.dw - p.pw;  // input column of output column ow: ow·sw + off
      int64_t lo, hi;
      valid_range(off, p.sw, p.w, OW, lo, hi);
      for (int64_t oh = 0; oh < p.oh; oh++) {
        float* r = row + oh * OW;
        const int64_t ih = oh * p.sh - p.ph + ki * p.dh;
        if (ih < 0 || ih >= p.h) {
          std::memset(r, 0, sizeof(float) * OW);
          continue;
        }
        if (lo > 0) std::memset(r, 0, sizeof(float) * lo);
        const float* src = xc + ih * p.w + (off + lo * p.sw);  // input of output column lo
        if (p.sw == 1) {
          std::memcpy(r + lo, src, sizeof(float) * (hi - lo));
        } else {
          const int64_t s = p.sw;
          for (int64_t o = lo; o < hi; o++) r[o] = src[(o - lo) * s];
        }
        if (hi < OW) std::memset(r + hi, 0, sizeof(float) * (OW - hi));
      }
    }
}

// col2im of one channel: the channel's kh·kw rows of cols (row stride ld) summed into xc [h, w]
// (overwritten).
void col2im_channel(float* xc, const float* cols, int64_t ld, const Conv2dShape& p) {
  const int64_t OW = p.ow;
  std::memset(xc, 0, sizeof(float) * p.h * p.w);
  for (int64_t ki = 0; ki < p.kh; ki++)
    for (int64_t kj = 0; kj < p.kw; kj++) {
      const float* row = cols + (ki * p.kw + kj) * ld;
      const int64_t off = kj * p.dw - p.pw;
      int64_t lo, hi;
      valid_range(off, p.sw, p.w, OW, lo, hi);
      if (hi <= lo) continue;
      for (int64_t oh = 0; oh < p.oh; oh++) {
        const int64_t ih = oh * p.sh - p.ph + ki * p.dh;
        if (ih < 0 || ih >= p.h) continue;
        const float* r = row + oh * OW;
        float* dst = xc + ih * p.w + (off + lo * p.sw);
        if (p.sw == 1) {
          const int64_t len = hi - lo;
          const float* rr = r + lo;
          for (int64_t o = 0; o < len; o++) dst[o] += rr[o];
        } else {
          const int64_t s = p.sw;
          for (int64_t o = lo; o < hi; o++) dst[(o - lo) * s] += r[o];
        }
      }
    }
}

// im2col / col2im of samples x[0..s) into / from one cols block [K, s·P] (sample j at column j·P),
// the (sample, channel) pairs split statically over `nthreads` threads.
void im2col_block(float* cols, const float* x, int64_t s, const Conv2dShape& p, [[maybe_unused]] int nthreads) {
  const int64_t P = pdim(p), ld = s * P, rows = p.kh * p.kw * ld, plane = p.h * p.w, pairs = s * p.cin;
  nthreads = std::min(nthreads, threads_for(p.cin * rows, kStreamGrain));  // small images: one thread
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1 && pairs > 1)
#endif
  for (int64_t q = 0; q < pairs; q++) {
    const int64_t j = q / p.cin, c = q % p.cin;
    im2col_channel(cols + c * rows + j * P, ld, x + (j * p.cin + c) * plane, p);
  }
}

void col2im_block(float* dx, const float* cols, int64_t s, const Conv2dShape& p, [[maybe_unused]] int nthreads) {
  const int64_t P = pdim(p), ld = s * P, rows = p.kh * p.kw * ld, plane = p.h * p.w, pairs = s * p.cin;
  nthreads = std::min(nthreads, threads_for(p.cin * rows, kStreamGrain));
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1 && pairs > 1)
#endif
  for (int64_t q = 0; q < pairs; q++) {
    const int64_t j = q / p.cin, c = q % p.cin;
    col2im_channel(dx + (j * p.cin + c) * plane, cols + c * rows + j * P, ld, p);
  }
}

// Samples [s0, s0 + s) of chunk c.
inline void chunk_range(const Plan& pl, const Conv2dShape& p, int64_t c, int64_t& s0, int64_t& s) {
  s0 = c * pl.S;
  s = std::min(pl.S, p.n - s0);
}

// The output rows of one channel: dst[i] = src[i] + b, and max(·, 0) when relu is set.
inline void bias_out(float* dst, const float* src, float b, int64_t len, bool relu) {
  if (relu) {
    for (int64_t i = 0; i < len; i++) dst[i] = std::max(src[i] + b, 0.f);
  } else {
    for (int64_t i = 0; i < len; i++) dst[i] = src[i] + b;
  }
}

// Forward of one chunk: y[s0 .. s0+s) from x[s0 ..). nt: threads for its GEMM and im2col.
void forward_chunk(float* y, const float* x, const float* w, const float* bias, float* slot, int64_t s0, int64_t s,
                   const Plan& pl, const Conv2dShape& p, int nt, bool relu) {
  const int64_t K = kdim(p), P = pdim(p), ld = s * P, xs = p.cin * p.h * p.w, ys = p.cout * P;
  if (pl.direct) {  // pointwise, one sample: Y_n = W · x_n straight into y
    float* yn = y + s0 * ys;
    if (bias)
      for (int64_t co = 0; co < p.cout; co++) std::fill(yn + co * P, yn + (co + 1) * P, bias[co]);
    sgemm(false, false, p.cout, P, K, 1.f, w, K, x + s0 * xs, P, bias ? 1.f : 0.f, yn, P, nt);
    if (relu) bias_out(yn, yn, 0.f, ys, true);
    return;
  }
  float* cols = slot;
  float* out = slot + (size_t)K * pl.S * P;  // [Co, s·P]
  im2col_block(cols, x + s0 * xs, s, p, nt);
  sgemm(false, false, p.cout, ld, K, 1.f, w, K, cols, ld, 0.f, out, ld, nt);
  for (int64_t j = 0; j < s; j++)
    for (int64_t co = 0; co < p.cout; co++)
      bias_out(y + (s0 + j) * ys + co * P, out + co * ld + j * P, bias ? bias[co] : 0.f, P, relu);
}

// Backward of one chunk: dwacc [Co, K] (pl.dwT: [K, Co]) = beta·dwacc + dY_c · cols_cᵀ (transposed), and dx of its samples (if
// wanted). nt: threads for its GEMMs, im2col and col2im.
void backward_chunk(float* dx, float* dwacc, float beta, const float* x, const float* w, const float* dy,
                    float* slot, int64_t s0, int64_t s, const Plan& pl, const Conv2dShape& p, int nt) {
  const int64_t K = kdim(p), P = pdim(p), ld = s * P, xs = p.cin * p.h * p.w, ys = p.cout * P;
  if (pl.direct) {
    const float* xn = x + s0 * xs;
    const float* dyn = dy + s0 * ys;
    sgemm(false, true, p.cout, K, P, 1.f, dyn, P, xn, P, beta, dwacc, K, nt);
    if (dx) sgemm(true, false, K, P, p.cout, 1.f, w, K, dyn, P, 0.f, dx + s0 * xs, P, nt);
    return;
  }
  float* cols = slot;
  float* g = slot + (size_t)K * pl.S * P;  // dY of the chunk gathered as [Co, s·P]
  im2col_block(cols, x + s0 * xs, s, p, nt);
  if (pl.dwT && !dx) {  // dWᵀ sample by sample, B packed straight from dy (no gathered copy of it)
    for (int64_t j = 0; j < s; j++)
      sgemm(false, true, K, p.cout, P, 1.f, cols + j * P, ld, dy + (s0 + j) * ys, P, j == 0 ? beta : 1.f, dwacc,
            p.cout, nt);
    return;
  }
  for (int64_t j = 0; j < s; j++)
    for (int64_t co = 0; co < p.cout; co++)
      std::memcpy(g + co * ld + j * P, dy + (s0 + j) * ys + co * P, sizeof(float) * P);
  if (pl.dwT)
    sgemm(false, true, K, p.cout, ld, 1.f, cols, ld, g, ld, beta, dwacc, p.cout, nt);
  else
    sgemm(false, true, p.cout, K, ld, 1.f, g, ld, cols, ld, beta, dwacc, K, nt);
  if (!dx) return;
  sgemm(true, false, K, ld, p.cout, 1.f, w, K, g, ld, 0.f, cols, ld, nt);
  col2im_block(dx + s0 * xs, cols, s, p, nt);
}

// Chunks [c0, c1) of dW group gi: its partial (or dw itself when there is one group) accumulated
// chunk by chunk in order.
void backward_group(float* dx, float* dw, float* partials, int64_t gi, const float* x, const float* w,
                    const float* dy, float* slot, const Plan& pl, const Conv2dShape& p, int nt) {
  const int64_t c0 = pl.chunks * gi / pl.groups, c1 = pl.chunks * (gi + 1) / pl.groups;
  const bool part = pl.partials > 0;
  float* acc = part ? partials + (size_t)gi * p.cout * kdim(p) : dw;
  for (int64_t c = c0; c < c1; c++) {
    int64_t s0, s;
    chunk_range(pl, p, c, s0, s);
    backward_chunk(dx, acc, (part && c == c0) ? 0.f : 1.f, x, w, dy, slot, s0, s, pl, p, nt);
  }
}

}  // namespace

bool conv2d_is_pointwise(const Conv2dShape& p) {
  return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.ph == 0 && p.pw == 0;
}

// The direct kernels' share of the workspace (0 where they do not run).
static size_t direct_workspace(const Conv2dShape& p, int nthreads) {
  size_t d = 0;
  if (p.sw == 1) d = conv2d_direct_workspace(p, nthreads, false);  // the fitting forward, or a pooled one
  if (conv2d_direct_dx_fits(p)) d = std::max(d, conv2d_direct_workspace(p, nthreads, true));
  if (conv2d_direct_dw_fits(p)) d = std::max(d, conv2d_direct_dw_workspace(p, nthreads));
  return d;
}

size_t conv2d_workspace_min(const Conv2dShape& p) {
  const Plan pl = plan_of(p);
  return std::max(pl.partials + pl.slot, direct_workspace(p, 1));
}

double conv2d_workspace_bound(const Conv2dShape& p, int nthreads) {
  const double P = (double)pdim(p), K = (double)kdim(p), co = (double)p.cout;
  const double S = std::max(1.0, std::min((double)p.n, std::ceil((double)kChunkCols / P)));
  return std::max((double)kMaxGroups * co * K + (double)std::max(1, nthreads) * (K + co) * (S + 1) * P,
                  std::max(conv2d_direct_workspace_bound(p, nthreads), conv2d_direct_dw_workspace_bound(p, nthreads)));
}

size_t conv2d_workspace_size(const Conv2dShape& p, int nthreads) {
  const Plan pl = plan_of(p);
  const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(nthreads, pl.chunks));
  return std::max(pl.partials + (size_t)slots * pl.slot, direct_workspace(p, nthreads));
}

void im2col(float* cols, const float* x, const Conv2dShape& p) { im2col_block(cols, x, 1, p, num_threads()); }

void col2im(float* dx, const float* cols, const Conv2dShape& p) { col2im_block(dx, cols, 1, p, num_threads()); }

void conv2d_forward(float* y, const float* x, const float* w, const float* bias, float* ws, size_t ws_len,
                    const Conv2dShape& p, bool relu, bool pool) {
  if (pool) return conv2d_direct_forward_pool(y, x, w, bias, ws, ws_len, p, relu);
  if (conv2d_direct_forward_fits(p)) return conv2d_direct_forward(y, x, w, bias, ws, ws_len, p, relu);
  const Plan pl = plan_of(p);
  const int nt = num_threads();
  // Threads over chunks (each with its own slot) when there are enough chunks; otherwise chunk by
  // chunk with the GEMM threaded inside. Either way each output is the same sequence of operations.
  const int64_t tb = std::min<int64_t>({(int64_t)nt, pl.chunks, slots_in(pl, ws_len)});
  if (!splits_well(pl.chunks, tb)) {
    for (int64_t c = 0; c < pl.chunks; c++) {
      int64_t s0, s;
      chunk_range(pl, p, c, s0, s);
      forward_chunk(y, x, w, bias, ws, s0, s, pl, p, nt, relu);
    }
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads((int)tb) schedule(dynamic, 1)
#endif
  for (int64_t c = 0; c < pl.chunks; c++) {
    int64_t s0, s;
    chunk_range(pl, p, c, s0, s);
    forward_chunk(y, x, w, bias, ws + (size_t)thread_id() * pl.slot, s0, s, pl, p, 1, relu);
  }
}

// Σ r[0 .. n) in float over 16 fixed partial sums (lane l takes i ≡ l mod 16), added pairwise in a
// fixed order: vectorizable, and the same bits whatever the threads.
static float row_sum(const float* r, int64_t n) {
  float acc[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 16; l++) acc[l] += r[i + l];
  for (int l = 0; i < n; i++, l++) acc[l] += r[i];
  for (int w = 8; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return acc[0];
}

// db[co] += Σ_n Σ_p dy[n, co, p]: rows summed in float (row_sum), samples in double, per channel.
static void bias_grad(float* db, const float* dy, const Conv2dShape& p, [[maybe_unused]] int nt) {
  const int64_t P = pdim(p), ys = p.cout * P;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && p.cout > 1 && p.n * ys > 32768)
#endif
  for (int64_t co = 0; co < p.cout; co++) {
    double acc = 0;
    for (int64_t s = 0; s < p.n; s++) {
      acc += row_sum(dy + s * ys + co * P, P);
    }
    db[co] = (float)(db[co] + acc);
  }
}

// dw += partial_0 + partial_1 + ... in group order.
static void sum_partials(float* dw, const float* partials, const Plan& pl, const Conv2dShape& p, [[maybe_unused]] int nt) {
  const int64_t dwsz = p.cout * kdim(p);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && dwsz * pl.groups > 65536)
#endif
  for (int64_t i = 0; i < dwsz; i++) {
    float acc = dw[i];
    if (pl.dwT) {  // partials are [K, Co]: element i = co·K + k sits at k·Co + co
      const int64_t K = kdim(p), j = (i % K) * p.cout + i / K;
      for (int64_t gi = 0; gi < pl.groups; gi++) acc += partials[gi * dwsz + j];
    } else {
      for (int64_t gi = 0; gi < pl.groups; gi++) acc += partials[gi * dwsz + i];
    }
    dw[i] = acc;
  }
}

void conv2d_backward(float* dx, float* dw, float* db, const float* x, const float* w, const float* dy, float* ws,
                     size_t ws_len, const Conv2dShape& p) {
  const Plan pl = plan_of(p);
  const int nt = num_threads();
  if (db) bias_grad(db, dy, p, nt);
  // dW by the direct kernel (conv_direct_dw.h) when its rule says so and dx, if wanted, runs direct too.
  if (conv2d_direct_dw_fits(p) && (!dx || conv2d_direct_dx_fits(p))) {
    conv2d_direct_dw(dw, x, dy, ws, ws_len, p);
    if (dx) conv2d_direct_dx(dx, w, dy, ws, ws_len, p);
    return;
  }
  // dx by the direct kernel after dW (which then skips its dX products and col2im; the workspace
  // is reused).
  float* dx_later = dx && conv2d_direct_dx_fits(p) ? dx : nullptr;
  if (dx_later) dx = nullptr;
  // dW is summed in fixed groups of chunks, each group in chunk order, then the group partials are
  // added to dw in group order: the groups come from the shape alone, so the result is the same
  // whichever thread ran which group (or how many threads the GEMMs used).
  float* partials = ws;
  float* slots = ws + pl.partials;
  const int64_t tb = std::min<int64_t>({(int64_t)nt, pl.groups, slots_in(pl, ws_len)});
  if (!splits_well(pl.groups, tb)) {
    for (int64_t gi = 0; gi < pl.groups; gi++) backward_group(dx, dw, partials, gi, x, w, dy, slots, pl, p, nt);
  } else {
#ifdef _OPENMP
#pragma omp parallel for num_threads((int)tb) schedule(dynamic, 1)
#endif
    for (int64_t gi = 0; gi < pl.groups; gi++)
      backward_group(dx, dw, partials, gi, x, w, dy, slots + (size_t)thread_id() * pl.slot, pl, p, 1);
  }
  if (pl.partials > 0) sum_partials(dw, partials, pl, p, nt);
  if (dx_later) conv2d_direct_dx(dx_later, w, dy, ws, ws_len, p);
}

}  // namespace mb
