// conv_direct.h — direct ("implicit GEMM") convolution for unit column stride: the forward pass, and
// the input gradient of a stride-1 convolution (which is itself such a convolution), with no cols
// buffer and no packing of the image.
//
// Legend as in conv.h (K = Ci·KH·KW, P = OH·OW); Hp×Wp is one zero-padded input plane, VL the
// vector width of the tile kernel (16 floats on AVX-512, 8 on AVX2 and the scalar reference), MR
// the output channels of one tile (8 on AVX-512, 4 otherwise).
//
// Each sample's input is copied once into a zero-padded buffer [Ci, Hp, Wp] (plus VL floats of
// slack). Then reduction index k = (c, ki, kj) reads the padded image at the fixed offset
//   off[k] = c·Hp·Wp + ki·dh·Wp + kj·dw
// from the start of the window of output pixel (oh, ow), which is at (oh·sh)·Wp + ow. With a unit
// column stride, VL consecutive output columns of one output row read VL consecutive floats: the
// B operand of the product Y[Co, P] = W[Co, K] · B[K, P] is loaded straight from the padded image
// (the image IS the packed panel), and the tile writes straight into y with the bias and the ReLU
// applied in registers. A tile is MR output channels × up to 3 vectors (VL output columns of one
// output row each, the last vector of a row masked to what is left of it). Weights are packed once
// per call into MR-row panels [K][MR], rows past Co zero.
//
// The input gradient of a stride-1 convolution is the convolution of dy, zero-padded by
// dh·(KH−1)−ph rows and dw·(KW−1)−pw columns, with the weights transposed and flipped:
//   dx[c, ih, iw] = Σ_{co, ki, kj} w[co, c, KH−1−ki, KW−1−kj] · dy_pad[co, ih + ki·dh, iw + kj·dw]
// so the same tiles compute it (overwriting dx).
//
// Every output element is one sum in k order started from the bias, computed by whichever thread
// takes its sample (or its tile): results do not depend on the thread count. The scalar tile kernel
// is the reference of the SIMD ones (conv2d_direct_forward_ref runs the whole driver with it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "conv.h"

namespace mb {

// Whether the forward pass runs direct: unit column stride, not a pointwise product (which the GEMM
// reads in place), a reduction that fits the tile's panel in L2, and output rows that fill at least
// 60% of the vector lanes of the tile kernel in use.
bool conv2d_direct_forward_fits(const Conv2dShape& p);
// Whether the input gradient runs direct: stride 1 both ways, padding at most dilation·(kernel − 1)
// both ways, and the forward rule for the transposed convolution.
bool conv2d_direct_dx_fits(const Conv2dShape& p);
// MINIBATCH_CONV_DIRECT=0 turns every direct kernel off (for A/B measurements), read once.
bool conv2d_direct_enabled();

// Floats of workspace the direct forward (dx = false) or input gradient (dx = true) needs with
// `nthreads` threads (packed weights and one padded image per thread), and the same bound in double.
size_t conv2d_direct_workspace(const Conv2dShape& p, int nthreads, bool dx);
double conv2d_direct_workspace_bound(const Conv2dShape& p, int nthreads);

// y [n, cout, oh, ow] = conv(x, w) + bias (bias may be null), then max(·, 0) when relu is set.
// ws: at least conv2d_direct_workspace(p, 1, false) floats; more threads run when it holds more.
void conv2d_direct_forward(float* y, const float* x, const float* w, const float* bias, float* ws, size_t ws_len,
                           const Conv2dShape& p, bool relu);
// Inference's Conv → (ReLU) → MaxPool2d(2, 2) in one pass: y [n, cout, ⌊oh/2⌋, ⌊ow/2⌋] gets the max
// of each 2×2 block of the (ReLU'd) convolution output (a NaN wins, as max pooling's), which is never
// written whole. Any shape with unit column stride (the SIMD tiles when simd_level() >= Avx2, else
// the reference tile); same workspace as conv2d_direct_forward. ref: the reference tile always.
void conv2d_direct_forward_pool(float* y, const float* x, const float* w, const float* bias, float* ws,
                                size_t ws_len, const Conv2dShape& p, bool relu, bool ref = false);
// The same driver with the scalar reference tile kernel whatever simd_level() says (the tests'
// oracle for the SIMD tiles). Needs conv2d_direct_forward_fits(p) only for the unit column stride.
void conv2d_direct_forward_ref(float* y, const float* x, const float* w, const float* bias, float* ws, size_t ws_len,
                               const Conv2dShape& p, bool relu);
// dx [n, cin, h, w] overwritten with the input gradient from dy [n, cout, oh, ow] and w; needs
// conv2d_direct_dx_fits(p) and conv2d_direct_workspace(p, 1, true) floats of ws.
void conv2d_direct_dx(float* dx, const float* w, const float* dy, float* ws, size_t ws_len, const Conv2dShape& p);

// ---------------------------------------------------------------------------------- tile kernels

// One tile: rows output channels (<= MR) × nv vectors (1..3) of VL output columns. With pool set, nv
// is 2, the two vectors are the same columns of output rows 2i and 2i + 1, and the tile stores the
// max over each 2×2 block (the first lanes_0 / 2 lanes, at yb_0, channel stride ystride) instead.
//   y_v[r·ystride + l] = act(bias[r] + Σ_k ap[k·MR + r] · xb_v[off[k] + l])   for l < lanes_v
// ap: packed weights [k][MR]; xb_v: the padded input at vector v's first window; yb_v: y of vector v
// in the tile's first channel. Lanes at and past lanes_v are computed from whatever lies there (it
// must be readable: the padded buffer has VL floats of slack) and never stored.
struct DirectTile {
  int64_t k;
  const float* ap;
  const int64_t* off;
  const float* xb[3];
  float* yb[3];
  int lanes[3];
  int nv;
  int rows;
  int64_t ystride;
  const float* bias;  // [rows] or null
  bool relu;
  bool pool;
};
void conv_direct_tile_ref(const DirectTile& t);     // MR 4, VL 8 (conv_direct.cc)
void conv_direct_tile_avx2(const DirectTile& t);    // MR 4, VL 8 (conv_direct_avx2.cc)
void conv_direct_tile_avx512(const DirectTile& t);  // MR 8, VL 16 (conv_direct_avx512.cc)

}  // namespace mb
