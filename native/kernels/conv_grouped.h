// conv_grouped.h — grouped 2-D convolution (groups > 1, depthwise when groups = channels), NCHW,
// float32, computed directly (no im2col): each output channel reads only the Ci/G input channels
// of its group, so a depthwise 3×3 costs 9 multiply-adds per output value, where an im2col + GEMM
// per group would pay a GEMM call per channel.
//
// Legend: G groups, Cg = Ci/G input channels and Og = Co/G output channels per group; output
// channel co belongs to group g = co / Og and reads input channels g·Cg .. g·Cg + Cg − 1.
//
//   y[n, co, oh, ow]  = b[co] + Σ_{c<Cg, i, j} w[co, c, i, j] · x[n, g·Cg + c, oh·sH − pH + i·dH, ow·sW − pW + j·dW]
//   dw[co, c, i, j]  += Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, g·Cg + c, ...]
//   db[co]           += Σ_{n, oh, ow} dy[n, co, oh, ow]
//   dx                = the adjoint of the forward (overwritten)
//
// Threads and determinism: forward splits (n, co) planes, dx splits (n, g) (disjoint input
// channels), dw and db split co and sum over n, oh, ow in one fixed order, so every result is the
// same on any thread count.
#pragma once

#include <cstdint>

#include "conv.h"

namespace mb {

// w [cout, cin / groups, kh, kw]; bias may be null. groups divides cin and cout.
void conv2d_grouped_forward(float* y, const float* x, const float* w, const float* bias, const Conv2dShape& p,
                            int64_t groups);
// dx overwritten (null to skip), dw += , db += (null to skip).
void conv2d_grouped_backward(float* dx, float* dw, float* db, const float* x, const float* w, const float* dy,
                             const Conv2dShape& p, int64_t groups);

}  // namespace mb
