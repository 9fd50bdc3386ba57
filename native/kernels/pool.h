// pool.h — 2-D max and average pooling, NCHW, float32, OpenMP over the n·c planes.
//
// Legend: N batch, C channels, H×W input plane, OH×OW output plane, KH×KW window.
// Window (oh, ow) covers input rows oh·sh - ph ... + kh - 1 and columns ow·sw - pw ... + kw - 1,
// clipped to the input. Requires ph <= kh / 2 and pw <= kw / 2 (as PyTorch), so no window is empty.
//
// Max: padding is -inf; argmax is the flat index ih·W + iw inside the input plane of the first maximum
// in row-major window order; a NaN wins (PyTorch's rule: `v > best || isnan(v)`, so the last NaN).
// Avg: count_include_pad = True with ceil_mode = False: the divisor is always kh·kw.
#pragma once

#include <cstdint>

namespace mb {

struct Pool2dShape {
  int64_t n, c, h, w;  // input [n, c, h, w]
  int64_t kh, kw, sh, sw, ph, pw;
  int64_t oh, ow;  // output [n, c, oh, ow]; the floor formula, or the ceil one (ceil_mode)
  // Average pooling's divisor: true counts the zero padding inside the window (PyTorch's default),
  // false only the input values the window covers. Windows past the padding (ceil mode) never count.
  bool count_include_pad = true;
};

// y [n, c, oh, ow], argmax [n, c, oh, ow] from x [n, c, h, w].
void max_pool2d_forward(float* y, int32_t* argmax, const float* x, const Pool2dShape& p);
// dx [n, c, h, w] (overwritten) gets dy [n, c, oh, ow] at argmax. Returns false (and skips the
// entry) when some argmax is outside [0, h·w).
bool max_pool2d_backward(float* dx, const int32_t* argmax, const float* dy, const Pool2dShape& p);

// y [n, c, oh, ow] = window sums of x [n, c, h, w] / the window's divisor (kh·kw when every window
// lies inside the padded input).
void avg_pool2d_forward(float* y, const float* x, const Pool2dShape& p);
// dx [n, c, h, w] (overwritten) = each dy [n, c, oh, ow] / (kh·kw) spread over its window.
void avg_pool2d_backward(float* dx, const float* dy, const Pool2dShape& p);
// Average pooling runs separable vector sums on AVX2 and AVX-512 (pool_avg_impl.h); these are the
// plain window loops, the scalar path and the tests' reference.
void avg_pool2d_forward_ref(float* y, const float* x, const Pool2dShape& p);
void avg_pool2d_backward_ref(float* dx, const float* dy, const Pool2dShape& p);

}  // namespace mb
