// conv.h — 2-D convolution as im2col + GEMM (col2im for the input gradient), NCHW, float32.
//
// Legend: N batch, Ci input channels, H×W input, Co output channels, KH×KW kernel, OH×OW output,
// K = Ci·KH·KW (the GEMM reduction size), P = OH·OW (pixels of one output plane).
//
//   forward    Y_n[Co, P]  = W[Co, K] · cols_n[K, P] (+ bias[Co] per row)
//   backward   dW[Co, K]  += Σ_n dY_n[Co, P] · cols_nᵀ[P, K]
//              db[Co]     += Σ_n Σ_p dY_n[Co, p]
//              dX_n        = col2im(Wᵀ[K, Co] · dY_n[Co, P])
//
// The oracles are PyTorch fixtures and a direct float64 convolution in the tests; the GEMM's own
// scalar reference covers MINIBATCH_SIMD=scalar.
//
// Chunks: the batch is cut into chunks of S samples (S·P about 1,536 columns, S = 1 when one plane is
// that wide), and each chunk is one wide GEMM instead of S small ones:
//   forward    Y_c[Co, S·P] = W · cols_c[K, S·P], scattered into y (plus bias)
//   backward   dW          += dY_c[Co, S·P] · cols_cᵀ      (dY_c gathered from dy)
//              dcols_c      = Wᵀ · dY_c, col2im per sample
// Unit column stride (not pointwise): the direct kernels of conv_direct.h instead, forward and the
// stride-1 input gradient, and dW by conv_direct_dw.h, when their rules say they are faster.
// A 1×1 convolution with stride 1 and no padding whose chunk is one sample skips im2col (the GEMMs
// read x and dy in place).
//
// Threads and determinism: the chunking and the dW reduction come from the shape alone. dW is summed
// in up to 8 fixed groups of consecutive chunks (each group chunk by chunk, in order, into its own
// partial; one group: straight into dw, unless dW is computed transposed, dWᵀ[K, Co] = cols · dYᵀ,
// when that pads the GEMM's register tiles less: then always into partials, the last sum transposing),
// then dw += partial_0 + partial_1 + ... in group order. The
// GEMMs give the same bits on any thread count, so forward and backward give the same bits on 1, 2
// or 16 threads. Threads take whole chunks (forward) or groups (backward), each with its own slot of
// the workspace, when those split evenly over them; otherwise chunks run one after another with the
// GEMM and im2col threaded inside. The kernels allocate nothing; the caller's workspace
// (conv2d_workspace_size floats) decides how many slots fit: a workspace sized for fewer threads
// still works, only with less parallelism.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mb {

struct Conv2dShape {
  int64_t n, cin, h, w;  // input [n, cin, h, w]
  int64_t cout, kh, kw;  // weight [cout, cin, kh, kw]
  int64_t sh, sw;        // stride
  int64_t ph, pw;        // zero padding
  int64_t dh, dw;        // dilation
  int64_t oh, ow;        // output [n, cout, oh, ow]; must be the PyTorch formula (the glue checks)
};

// True when the convolution is a plain per-pixel matrix product (1×1, stride 1, no padding).
bool conv2d_is_pointwise(const Conv2dShape& p);

// Floats of workspace conv2d_forward and conv2d_backward use with `nthreads` threads: the dW
// partials and one chunk slot per thread (at most one per chunk). Never less than conv2d_workspace_min(p).
size_t conv2d_workspace_size(const Conv2dShape& p, int nthreads);
// conv2d_workspace_size computed in double, for the glue's overflow check before any size_t arithmetic.
double conv2d_workspace_bound(const Conv2dShape& p, int nthreads);
// The smallest workspace the kernels accept (one thread's worth: conv2d_workspace_size(p, 1)).
size_t conv2d_workspace_min(const Conv2dShape& p);

// cols [cin·kh·kw, oh·ow] = im2col(x [cin, h, w]); one image (p.n ignored). Padding reads as 0.
void im2col(float* cols, const float* x, const Conv2dShape& p);
// dx [cin, h, w] = col2im(cols [cin·kh·kw, oh·ow]) (overwrites dx): the adjoint of im2col.
void col2im(float* dx, const float* cols, const Conv2dShape& p);

// y [n, cout, oh, ow] = conv(x [n, cin, h, w], w [cout, cin, kh, kw]) + bias [cout] (bias may be null),
// then max(y, 0) when relu is set (fused into the pass that writes y, for inference).
// ws: workspace of ws_len >= conv2d_workspace_min(p) floats.
// pool: y is [n, cout, ⌊oh/2⌋, ⌊ow/2⌋] and gets MaxPool2d(2, 2) of that result instead (unit column
// stride only; conv_direct.h).
void conv2d_forward(float* y, const float* x, const float* w, const float* bias, float* ws, size_t ws_len,
                    const Conv2dShape& p, bool relu = false, bool pool = false);

// dx [n, cin, h, w] overwritten (null to skip), dw [cout, cin, kh, kw] +=, db [cout] += (null to skip),
// from x [n, cin, h, w], w [cout, cin, kh, kw], dy [n, cout, oh, ow].
void conv2d_backward(float* dx, float* dw, float* db, const float* x, const float* w, const float* dy, float* ws,
                     size_t ws_len, const Conv2dShape& p);

}  // namespace mb
