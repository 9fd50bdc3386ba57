// activations.h — elementwise activations, maxout and bias add: forward/backward pairs.
//
// Every kernel is destination-passing: outputs first, then const inputs, then sizes. Elementwise
// kernels work on n contiguous floats; y may alias x (in place). Backward kernels overwrite dx
// (input gradients) and accumulate into db (a parameter gradient).
//
//   relu        y = x > 0 ? x : 0 (NaN stays NaN)      dx = dy · (x > 0)
//   leaky_relu  y = x > 0 ? x : alpha·x                 dx = dy · (x > 0 ? 1 : alpha)
//   elu         y = x > 0 ? x : alpha·expm1(x)          dx = dy · (x > 0 ? 1 : y + alpha)
//   sigmoid     y = 1 / (1 + exp(-x))                   dx = dy · y·(1 - y)
//   tanh        y = tanh(x)                             dx = dy · (1 - y²)
//
// The exp-based forward kernels keep a relative error <= 2e-6 against double precision for every
// float input whose result is a normal float (denormal results are off by at most one denormal
// step): sigmoid is evaluated as e/(1+e) with e = exp(-|x|) on the negative side (no overflow),
// tanh as a Cephes odd polynomial for |x| < 0.625 and (1-e)/(1+e), e = exp(-2|x|), beyond it, and
// elu through expm1 (no cancellation near 0).
//
// Dispatch: the AVX2 paths (activations_avx2.cc) when simd_level() >= Avx2, else the *_ref loops.
// Large arrays (n > 32768) are split in static chunks over num_threads() OpenMP threads.
#pragma once

#include <cstdint>

namespace mb {

enum class Act : int { Relu = 0, LeakyRelu = 1, Elu = 2, Sigmoid = 3, Tanh = 4 };

// y [n] = f(x [n]).
void activation_forward(Act kind, float* y, const float* x, int64_t n, float alpha);
// dx [n] = dy [n] · f'(x [n], y [n]).
void activation_backward(Act kind, float* dx, const float* x, const float* y, const float* dy, int64_t n,
                         float alpha);

// Scalar references (single thread): the test oracle and the fallback.
void activation_forward_ref(Act kind, float* y, const float* x, int64_t n, float alpha);
void activation_backward_ref(Act kind, float* dx, const float* x, const float* y, const float* dy, int64_t n,
                             float alpha);

#ifdef MB_HAVE_AVX2_TU
// AVX2 + FMA chunks (single thread, unaligned loads, scalar tail). `stream` asks for non-temporal
// stores (y must not alias x); used for outputs far larger than the caches.
void activation_forward_avx2(Act kind, float* y, const float* x, int64_t n, float alpha, bool stream);
void activation_backward_avx2(Act kind, float* dx, const float* x, const float* y, const float* dy, int64_t n,
                              float alpha);
#endif

// Maxout: z [rows, units, pieces] -> y [rows, units], argmax [rows, units] = first p reaching the
// maximum (a NaN piece wins, as in torch.max).
void maxout_forward(float* y, int32_t* argmax, const float* z, int64_t rows, int64_t units, int64_t pieces);
// dz [rows, units, pieces] = dy [rows, units] at argmax, 0 elsewhere (overwrites dz).
void maxout_backward(float* dz, const int32_t* argmax, const float* dy, int64_t rows, int64_t units,
                     int64_t pieces);

// y [outer, channels, inner] += bias [channels].
void bias_add(float* y, const float* bias, int64_t outer, int64_t channels, int64_t inner);
// db [channels] += sum over o, i of dy [outer, channels, inner] (double accumulation, fixed order).
void bias_backward(float* db, const float* dy, int64_t outer, int64_t channels, int64_t inner);

// dst [n] = src [n] (memcpy in static chunks over the threads): the bandwidth baseline of benchmarks.
void copy_buffer(float* dst, const float* src, int64_t n);

}  // namespace mb
