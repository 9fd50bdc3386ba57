// conv_direct_dw.cc — the direct weight-gradient driver (copies, chunks, groups, tiles, threads),
// its shape rule, and the scalar reference tile kernel (see conv_direct_dw.h).
#include "conv_direct_dw.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "conv_direct.h"
#include "cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

namespace {

// Columns (S·P) a chunk aims for: enough vector steps per tile that its horizontal reductions are
// a small part of it.
constexpr int64_t kChunkCols = 1024;
// At most this many copied floats in one chunk (one thread's slot stays well within L2).
constexpr int64_t kSlotFloats = int64_t(1) << 16;
// At most this many group partials, and at most kPartialFloats floats of them in all.
constexpr int64_t kMaxGroups = 8;
constexpr int64_t kPartialFloats = int64_t(1) << 21;
// Multiply-adds one thread should at least get before another is woken.
constexpr int64_t kGrain = int64_t(1) << 20;

using TileFn = void (*)(const DwTile&);
struct Geo {
  int64_t mr, kb;
  TileFn fn;
};

Geo geo_of(bool ref) {
  if (!ref) {
#ifdef MB_HAVE_AVX512_TU
    if (simd_level() == Simd::Avx512) return {4, 6, conv_dw_tile_avx512};
#endif
#ifdef MB_HAVE_AVX2_TU
    if (simd_level() >= Simd::Avx2) return {4, 3, conv_dw_tile_avx2};
#endif
  }
  return {4, 3, conv_dw_tile_ref};
}

// How a call is cut, from the shape alone (never from the thread count, the SIMD level or the
// workspace).
//
// Two layouts of a chunk's images. Row stride 1 ("flat"): each sample is copied as KW plane sets,
// one per column tap kj, [kw][cin][hp][ow] with
//   shifted_kj[c, r, ow] = xpad[c, r, ow + kj·dw]
// so that tap (c, ki, kj) at output pixel p = oh·OW + ow reads shifted_kj[c, ki·dh·OW + p]: the
// whole output plane is one run of P columns in both dy and the image (no row ends, no masked vector
// but the last one of a plane). Other row strides: the zero-padded image [cin, hp, wp] of
// conv_direct.h, read row by row.
struct Plan {
  bool flat;         // row stride 1: the shifted layout
  int64_t hp, wp;    // one padded plane (flat: rows hp of ow columns, wp unused)
  int64_t xs;        // floats of one copied sample
  int64_t S;         // samples per chunk (the last chunk may hold fewer)
  int64_t chunks;    // ceil(n / S)
  int64_t groups;    // partial sums (1: the chunks add into dw directly)
  size_t slot;       // floats of one thread's copied chunk
  size_t partials;   // groups · Co · K floats, 0 with one group
};

Plan plan_of(const Conv2dShape& p) {
  Plan pl;
  pl.flat = p.sh == 1;
  pl.hp = p.h + 2 * p.ph;
  pl.wp = p.w + 2 * p.pw;
  pl.xs = pl.flat ? p.kw * p.cin * pl.hp * p.ow : p.cin * pl.hp * pl.wp;
  const int64_t P = p.oh * p.ow, ck = p.cout * p.cin * p.kh * p.kw;
  const int64_t by_cols = (kChunkCols + P - 1) / std::max<int64_t>(P, 1);
  const int64_t by_slot = std::max<int64_t>(1, kSlotFloats / std::max<int64_t>(pl.xs, 1));
  const int64_t want = std::max<int64_t>(1, std::min<int64_t>({p.n, by_cols, by_slot}));
  pl.chunks = (p.n + want - 1) / want;
  pl.S = (p.n + pl.chunks - 1) / pl.chunks;  // the same chunk count, chunks as even as it allows
  pl.chunks = (p.n + pl.S - 1) / pl.S;
  pl.groups = std::max<int64_t>(1, std::min<int64_t>({pl.chunks, kMaxGroups, kPartialFloats / std::max<int64_t>(ck, 1)}));
  pl.slot = (size_t)(pl.S * pl.xs);
  pl.partials = pl.groups > 1 ? (size_t)(pl.groups * ck) : 0;
  return pl;
}

// Samples [s0, s0 + s) of x [·, cin, h, w] copied into dst in the plan's layout.
void copy_chunk(float* dst, const float* x, int64_t s0, int64_t s, const Plan& pl, const Conv2dShape& p) {
  const float* src = x + s0 * p.cin * p.h * p.w;
  if (!pl.flat) {  // zero-padded planes [cin, hp, wp]
    const int64_t right = pl.wp - p.pw - p.w, bottom = pl.hp - p.ph - p.h;
    for (int64_t q = 0; q < s * p.cin; q++) {  // every plane of the chunk
      float* d = dst + q * pl.hp * pl.wp;
      std::memset(d, 0, sizeof(float) * p.ph * pl.wp);
      d += p.ph * pl.wp;
      for (int64_t r = 0; r < p.h; r++, d += pl.wp, src += p.w) {
        std::memset(d, 0, sizeof(float) * p.pw);
        std::memcpy(d + p.pw, src, sizeof(float) * p.w);
        std::memset(d + p.pw + p.w, 0, sizeof(float) * right);
      }
      std::memset(d, 0, sizeof(float) * bottom * pl.wp);
    }
    return;
  }
  const int64_t plane = pl.hp * p.ow;
  for (int64_t j = 0; j < s; j++)
    for (int64_t kj = 0; kj < p.kw; kj++) {
      // output column ow reads input column ow + sh0, inside [0, w) for ow in [lo, hi)
      const int64_t sh0 = kj * p.dw - p.pw;
      const int64_t lo = std::min(p.ow, std::max<int64_t>(0, -sh0)), hi = std::max(lo, std::min(p.ow, p.w - sh0));
      for (int64_t c = 0; c < p.cin; c++) {
        float* d = dst + ((j * p.kw + kj) * p.cin + c) * plane;
        const float* xc = src + (j * p.cin + c) * p.h * p.w;
        // plain loops, not memcpy / memset: the rows are short (tens of floats), and a library call
        // per piece of a row cost more than the tiles of small layers did
        for (int64_t r = 0; r < pl.hp; r++, d += p.ow) {
          const int64_t ih = r - p.ph;
          if (ih < 0 || ih >= p.h) {
            for (int64_t o = 0; o < p.ow; o++) d[o] = 0.f;
            continue;
          }
          const float* srow = xc + ih * p.w + sh0;  // input of output column o: srow[o]
          for (int64_t o = 0; o < lo; o++) d[o] = 0.f;
          for (int64_t o = lo; o < hi; o++) d[o] = srow[o];
          for (int64_t o = hi; o < p.ow; o++) d[o] = 0.f;
        }
      }
    }
}

struct Call {
  const float* x;
  const float* dy;
  const Conv2dShape& p;
  const Plan& pl;
  const Geo& g;
  const int64_t* off;  // [K]
};

// Tiles [t0, t1) of one copied chunk (tile q: channel block q / kblocks, reduction block q % kblocks)
// into acc [Co, K] (written when accumulate is false, else added).
void run_tiles(float* acc, bool accumulate, const float* pad, int64_t s0, int64_t s, const Call& c, int64_t t0,
               int64_t t1) {
  const Conv2dShape& p = c.p;
  const int64_t K = p.cin * p.kh * p.kw, P = p.oh * p.ow, kblocks = (K + c.g.kb - 1) / c.g.kb;
  DwTile t{};
  t.ldw = K;
  t.x = pad;
  t.xs = c.pl.xs;
  t.dys = p.cout * P;
  t.rs = c.pl.flat ? 0 : p.sh * c.pl.wp;
  t.oh = c.pl.flat ? 1 : p.oh;  // flat: the plane is one row of P columns
  t.ow = c.pl.flat ? P : p.ow;
  t.ns = (int)s;
  t.accumulate = accumulate;
  for (int64_t q = t0; q < t1; q++) {
    const int64_t co = q / kblocks * c.g.mr, k = q % kblocks * c.g.kb;
    t.rows = (int)std::min(c.g.mr, p.cout - co);
    t.kb = (int)std::min(c.g.kb, K - k);
    t.dw = acc + co * K + k;
    t.dy = c.dy + s0 * t.dys + co * P;
    t.off = c.off + k;
    c.g.fn(t);
  }
}

int64_t tile_count(const Conv2dShape& p, const Geo& g) {
  const int64_t K = p.cin * p.kh * p.kw;
  return (p.cout + g.mr - 1) / g.mr * ((K + g.kb - 1) / g.kb);
}

// Chunks of group gi, in order, into acc (the group's partial, or dw itself with one group); the
// tiles of each chunk over `nt` threads.
void run_group(float* dw, float* partials, int64_t gi, float* slot, const Call& c, int nt) {
  const Plan& pl = c.pl;
  const Conv2dShape& p = c.p;
  const int64_t c0 = pl.chunks * gi / pl.groups, c1 = pl.chunks * (gi + 1) / pl.groups;
  const bool part = pl.partials > 0;
  float* acc = part ? partials + (size_t)gi * p.cout * p.cin * p.kh * p.kw : dw;
  const int64_t tiles = tile_count(p, c.g);
  for (int64_t ch = c0; ch < c1; ch++) {
    const int64_t s0 = ch * pl.S, s = std::min(pl.S, p.n - s0);
    copy_chunk(slot, c.x, s0, s, pl, p);
    const bool add = !part || ch > c0;
    const int tn = (int)std::min<int64_t>(nt, tiles);
    if (tn <= 1) {
      run_tiles(acc, add, slot, s0, s, c, 0, tiles);
      continue;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(tn) schedule(static)
#endif
    for (int64_t q = 0; q < tiles; q++) run_tiles(acc, add, slot, s0, s, c, q, q + 1);
  }
}

// MINIBATCH_CONV_DIRECT=0 (every direct kernel) or MINIBATCH_CONV_DIRECT_DW=0 (this one) turns the
// direct weight gradient off, for A/B measurements; read once.
bool dw_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("MINIBATCH_CONV_DIRECT_DW");
    return conv2d_direct_enabled() && !(e && e[0] == '0');
  }();
  return on;
}

}  // namespace

// Where the direct gradient beat im2col + GEMM when measured (A/B in alternating processes, process
// CPU time, AVX-512 and AVX2, 1 and 2 threads): row stride 1 (the flat layout; read row by row, a row
// stride of 2 was slower) and a small dW, Co·K <= 8,192 floats — the MNIST convolutions (Co·K 144 and
// 4,608: 0.2× and 0.7× the GEMM's time), 3→16, 8→16, 24→32 and 3→32 5×5 (0.1× to 0.8×). From about
// Co·K = 18,000 up (N32 32→64 16×16 and 32×32, 64→64 56×56) the GEMM's register tiles fill and it
// was as fast or faster, so those keep it.
constexpr int64_t kMaxDwFloats = 8192;

bool conv2d_direct_dw_fits(const Conv2dShape& p) {
  return dw_enabled() && p.sw == 1 && p.sh == 1 && !conv2d_is_pointwise(p) &&
         p.cout * p.cin * p.kh * p.kw <= kMaxDwFloats;
}

size_t conv2d_direct_dw_workspace(const Conv2dShape& p, int nthreads) {
  const Plan pl = plan_of(p);
  const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(nthreads, pl.groups));
  return pl.partials + (size_t)slots * pl.slot;
}

double conv2d_direct_dw_workspace_bound(const Conv2dShape& p, int nthreads) {
  const double t = (double)std::max(1, nthreads);
  const double ck = (double)p.cout * p.cin * p.kh * p.kw;
  const double xs = (double)p.cin * (p.h + 2.0 * p.ph) * std::max((double)p.w + 2.0 * p.pw, (double)p.kw * p.ow);
  // S·xs <= max(xs, kSlotFloats + xs) whatever S is
  return (double)kMaxGroups * ck + t * (xs + (double)kSlotFloats);
}

void conv2d_direct_dw(float* dw, const float* x, const float* dy, float* ws, size_t ws_len, const Conv2dShape& p,
                      bool ref) {
  const Plan pl = plan_of(p);
  const Geo g = geo_of(ref);
  std::vector<int64_t> off((size_t)(p.cin * p.kh * p.kw));
  for (int64_t c = 0, k = 0; c < p.cin; c++)
    for (int64_t ki = 0; ki < p.kh; ki++)
      for (int64_t kj = 0; kj < p.kw; kj++)
        off[(size_t)k++] = pl.flat ? (kj * p.cin + c) * pl.hp * p.ow + ki * p.dh * p.ow
                                   : c * pl.hp * pl.wp + ki * p.dh * pl.wp + kj * p.dw;
  const Call c{x, dy, p, pl, g, off.data()};
  float* partials = ws;
  float* slots = ws + pl.partials;
  const int64_t nslots = ws_len >= pl.partials + pl.slot ? (int64_t)((ws_len - pl.partials) / pl.slot) : 0;
  const int64_t ck = p.cout * p.cin * p.kh * p.kw;
  const int64_t work = p.oh * p.ow * ck;  // multiply-adds of one sample
  const int tb = (int)std::min<int64_t>({(int64_t)threads_for(p.n * work, kGrain), pl.groups, nslots});
  if (splits_well(pl.groups, tb)) {  // whole groups over threads, each with its own slot
#ifdef _OPENMP
#pragma omp parallel for num_threads(tb) schedule(dynamic, 1)
#endif
    for (int64_t gi = 0; gi < pl.groups; gi++) run_group(dw, partials, gi, slots + (size_t)thread_id() * pl.slot, c, 1);
  } else {  // groups in order, each chunk's tiles over the threads
    const int nt = threads_for(pl.S * work, kGrain);
    for (int64_t gi = 0; gi < pl.groups; gi++) run_group(dw, partials, gi, slots, c, nt);
  }
  if (pl.partials == 0) return;
  // dw += partial_0 + partial_1 + ... in group order
  const int nt = threads_for(ck * pl.groups, 65536);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
  for (int64_t i = 0; i < ck; i++) {
    float a = dw[i];
    for (int64_t gi = 0; gi < pl.groups; gi++) a += partials[gi * ck + i];
    dw[i] = a;
  }
}

// ------------------------------------------------------------------------- the reference tile

// Each (r, j) pair sums in VL lanes (lane l takes the output columns ≡ l mod VL of every row), the
// lanes then added pairwise: the same shape of sum as the SIMD tiles.
void conv_dw_tile_ref(const DwTile& t) {
  constexpr int VL = 8;
  const int64_t P = t.oh * t.ow;
  for (int r = 0; r < t.rows; r++)
    for (int j = 0; j < t.kb; j++) {
      float acc[VL] = {};
      for (int s = 0; s < t.ns; s++)
        for (int64_t i = 0; i < t.oh; i++) {
          const float* d = t.dy + s * t.dys + r * P + i * t.ow;
          const float* xr = t.x + s * t.xs + t.off[j] + i * t.rs;
          for (int64_t l0 = 0; l0 < t.ow; l0 += VL)
            for (int64_t l = 0; l < VL && l0 + l < t.ow; l++) acc[l] += d[l0 + l] * xr[l0 + l];
        }
      for (int w = VL / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) acc[l] += acc[l + w];
      float* o = t.dw + r * t.ldw + j;
      *o = t.accumulate ? *o + acc[0] : acc[0];
    }
}

}  // namespace mb
