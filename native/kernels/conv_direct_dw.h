// conv_direct_dw.h — the weight gradient of a convolution with unit column stride computed direct:
// no cols buffer, the B operand read straight from a copy of each sample (zero-padded, as in the
// direct forward of conv_direct.h, or as shifted planes), no packing.
//
// Legend as in conv.h (K = Ci·KH·KW, P = OH·OW) and conv_direct.h (Hp×Wp one zero-padded input
// plane, off[k] = c·Hp·Wp + ki·dh·Wp + kj·dw the offset of reduction index k = (c, ki, kj) from the
// start of an output pixel's window); VL the vector width of the tile kernel (16 floats on AVX-512,
// 8 on AVX2 and the scalar reference), MR the output channels of one tile (4), KB its reduction
// indices (6 on AVX-512, 3 otherwise).
//
//   dW[co, k] += Σ_n Σ_{oh, ow} dy[n, co, oh, ow] · xpad_n[off[k] + oh·sh·Wp + ow]
//
// With a unit column stride, VL consecutive output columns read VL consecutive floats of the image
// for every k, and VL consecutive floats of dy. With row stride 1 the chunk's samples are copied as
// one shifted plane set per column tap (see Plan in conv_direct_dw.cc), which makes a whole output
// plane one run of P columns in both operands; with other row strides they are zero-padded as in
// conv_direct.h and read row by row (the test hooks run that layout; the rule keeps those shapes on
// the GEMM, which was faster). A tile is MR output channels × KB reduction indices: MR·KB vector
// accumulators, one per (co, k) pair, each summing lanes of output columns over the samples of one
// chunk; they are reduced horizontally once at the end, so that cost is paid once per chunk and not
// once per row. Loads per step: MR of dy and KB of the image, for MR·KB multiply-adds. The last
// vector of a run is masked (lanes past it read as zero in both operands): every product is one of
// the exact sum, so a NaN or infinity reaches only the dW elements it belongs to.
//
// Chunks and determinism, as in conv.h: the batch is cut into chunks of S samples (the shape alone
// decides S), each chunk copied together into one thread's slot; up to 8 fixed groups of consecutive
// chunks each sum into their own partial (the first chunk writes it, the next ones add, in order),
// then dw += partial_0 + partial_1 + ... in group order (one group: the chunks add into dw
// directly, in order). Threads take whole groups when the groups split evenly over them, else the
// chunks run in order with their tiles (disjoint blocks of dW) split over the threads. Every element
// of dW is thus the same sequence of operations on 1, 2, 3 or 16 threads. The scalar tile is the
// reference of the SIMD ones (conv2d_direct_dw with ref set runs the whole driver with it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "conv.h"

namespace mb {

// Whether conv2d_backward computes dW direct: stride 1, not a pointwise product, direct kernels not
// switched off (MINIBATCH_CONV_DIRECT=0 or MINIBATCH_CONV_DIRECT_DW=0), and a dW small enough that
// it was measured faster than im2col + GEMM (Co·K <= 8,192; see conv_direct_dw.cc).
bool conv2d_direct_dw_fits(const Conv2dShape& p);

// Floats of workspace conv2d_direct_dw needs with `nthreads` threads (the group partials and one
// padded chunk per thread), and the same bound in double for the glue's overflow check.
size_t conv2d_direct_dw_workspace(const Conv2dShape& p, int nthreads);
double conv2d_direct_dw_workspace_bound(const Conv2dShape& p, int nthreads);

// dw [cout, cin, kh, kw] += the weight gradient from x [n, cin, h, w] and dy [n, cout, oh, ow]; needs
// p.sw == 1 and at least conv2d_direct_dw_workspace(p, 1) floats of ws (more threads run when it holds
// more). ref: the scalar reference tile whatever simd_level() says (the tests' oracle).
void conv2d_direct_dw(float* dw, const float* x, const float* dy, float* ws, size_t ws_len, const Conv2dShape& p,
                      bool ref = false);

// ---------------------------------------------------------------------------------- tile kernels

// One tile: rows (<= MR) output channels × kb (<= KB) reduction indices, over ns samples:
//   dw[r·ldw + j] (+)= Σ_s Σ_{i < oh} Σ_{l < ow} dy[s·dys + r·P + i·ow + l] · x[s·xs + off[j] + i·rs + l]
// with P = oh·ow; written (accumulate false) or added (accumulate true). x: the chunk's first copied
// sample; dy: dy of its first sample at the tile's first channel. In the flat layout oh is 1 and ow
// is P (the whole plane is one run).
struct DwTile {
  float* dw;
  int64_t ldw;
  const float* x;
  const float* dy;
  const int64_t* off;  // [kb]
  int64_t xs, dys;     // sample strides of x and dy
  int64_t rs;          // image floats between the windows of consecutive output rows (sh·Wp)
  int64_t oh, ow;
  int ns;
  int rows, kb;
  bool accumulate;
};
void conv_dw_tile_ref(const DwTile& t);     // MR 4, KB 3, VL 8 (conv_direct_dw.cc)
void conv_dw_tile_avx2(const DwTile& t);    // MR 4, KB 3, VL 8 (conv_direct_dw_avx2.cc)
void conv_dw_tile_avx512(const DwTile& t);  // MR 4, KB 6, VL 16 (conv_direct_dw_avx512.cc)

}  // namespace mb
