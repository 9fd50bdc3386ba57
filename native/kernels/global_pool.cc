// global_pool.cc — global average pooling (see global_pool.h): the scalar planes, the dispatch to
// the AVX2 and AVX-512 planes (global_pool_avx2.cc, global_pool_avx512.cc), threads over planes.
#include "global_pool.h"

#include "cpu.h"

namespace mb {

// One plane's mean and one plane's gradient fill (global_pool_avx2.cc, global_pool_avx512.cc).
float global_avg_plane_avx2(const float* x, int64_t hw);
float global_avg_plane_avx512(const float* x, int64_t hw);
void global_avg_fill_avx2(float* dx, float g, int64_t hw);
void global_avg_fill_avx512(float* dx, float g, int64_t hw);

namespace {

float plane_scalar(const float* x, int64_t hw) {
  double s = 0;
  for (int64_t i = 0; i < hw; i++) s += (double)x[i];
  return (float)(s / (double)hw);
}

void fill_scalar(float* dx, float g, int64_t hw) {
  for (int64_t i = 0; i < hw; i++) dx[i] = g;
}

using PlaneFn = float (*)(const float*, int64_t);
using FillFn = void (*)(float*, float, int64_t);

PlaneFn plane_fn() { return pick_simd<PlaneFn>(MB_AVX512(global_avg_plane_avx512), MB_AVX2(global_avg_plane_avx2), plane_scalar); }
FillFn fill_fn() { return pick_simd<FillFn>(MB_AVX512(global_avg_fill_avx512), MB_AVX2(global_avg_fill_avx2), fill_scalar); }

void forward_with(PlaneFn plane, float* y, const float* x, int64_t planes, int64_t hw) {
  [[maybe_unused]] const int nt = threads_for(planes * hw, kStreamGrain);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && planes > 1)
#endif
  for (int64_t pl = 0; pl < planes; pl++) y[pl] = plane(x + pl * hw, hw);
}

void backward_with(FillFn fill, float* dx, const float* dy, int64_t planes, int64_t hw) {
  [[maybe_unused]] const int nt = threads_for(planes * hw, kStreamGrain);
  const float div = (float)hw;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && planes > 1)
#endif
  for (int64_t pl = 0; pl < planes; pl++) fill(dx + pl * hw, dy[pl] / div, hw);
}

}  // namespace

void global_avg_pool_forward(float* y, const float* x, int64_t planes, int64_t hw) {
  forward_with(plane_fn(), y, x, planes, hw);
}

void global_avg_pool_backward(float* dx, const float* dy, int64_t planes, int64_t hw) {
  backward_with(fill_fn(), dx, dy, planes, hw);
}

void global_avg_pool_forward_ref(float* y, const float* x, int64_t planes, int64_t hw) {
  forward_with(plane_scalar, y, x, planes, hw);
}

void global_avg_pool_backward_ref(float* dx, const float* dy, int64_t planes, int64_t hw) {
  backward_with(fill_scalar, dx, dy, planes, hw);
}

}  // namespace mb
