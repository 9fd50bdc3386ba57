// global_pool.h — global average pooling, NCHW float32: one mean per (n, c) plane, OpenMP over the
// planes. The forward sums each plane in double precision (every path: scalar, AVX2, AVX-512; only
// the order of the additions differs), then rounds sum / hw to float once. The backward spreads
// dy / hw (a float division, the same on every path, as PyTorch's) over the plane.
#pragma once

#include <cstdint>

namespace mb {

// y [planes] = the mean of each plane of x [planes, hw].
void global_avg_pool_forward(float* y, const float* x, int64_t planes, int64_t hw);
// dx [planes, hw] (overwritten) = dy [planes] / hw, repeated over each plane.
void global_avg_pool_backward(float* dx, const float* dy, int64_t planes, int64_t hw);

// The scalar code behind the same contract, whatever simd_level() is (the tests' oracle).
void global_avg_pool_forward_ref(float* y, const float* x, int64_t planes, int64_t hw);
void global_avg_pool_backward_ref(float* dx, const float* dy, int64_t planes, int64_t hw);

}  // namespace mb
