// stats.h — one-pass summary statistics of a buffer, for the training diagnostics.
//
// Legend: x is viewed as [outer, units, inner] (dense activations: [N, D, 1]; conv activations:
// [N, C, H·W]); a unit is a feature or a channel. n = outer·units·inner.
// Sums are kept in double, in one fixed order (no threads), so a result depends on nothing but the
// data. The fast entry points dispatch on mb::simd_level(); the *_ref versions are the plain loops
// (test oracle and fallback). Nothing here allocates or throws.
#pragma once

#include <cstdint>

namespace mb {

// Slots of TensorStats::out, in this order.
enum StatSlot {
  kStatSum = 0,        // sum of the finite values
  kStatSumSq,          // sum of their squares
  kStatMin,            // smallest finite value (+inf if none)
  kStatMax,            // largest finite value (-inf if none)
  kStatZeros,          // values == 0
  kStatNonFinite,      // NaN or ±inf (left out of every other slot and of the histogram)
  kStatSatTanh,        // |x| > 0.99
  kStatSatSigmoid,     // x < 0.01 or x > 0.99
  kStatSlots
};

// out [kStatSlots]  overwritten with the slots above
// hist [bins]       overwritten (may be null when bins == 0): counts of the finite values in bins of
//                   width (hi - lo) / bins from lo; values below lo count in bin 0, values at or
//                   above hi in the last bin
// unit_nonzero [units]  overwritten (may be null): how many values of each unit are nonzero
void tensor_stats(double* out, double* hist, int32_t* unit_nonzero, const float* x, int64_t outer,
                  int64_t units, int64_t inner, double lo, double hi, int64_t bins);
void tensor_stats_ref(double* out, double* hist, int32_t* unit_nonzero, const float* x, int64_t outer,
                      int64_t units, int64_t inner, double lo, double hi, int64_t bins);

// out [3] overwritten: { Σ w², Σ (w - prev)², Σ g² } over n values; prev or g may be null (slot 0).
void param_stats(double* out, const float* w, const float* prev, const float* g, int64_t n);
void param_stats_ref(double* out, const float* w, const float* prev, const float* g, int64_t n);

// Running totals of one tensor_stats call (the fast paths add runs of contiguous values into it).
struct StatAcc {
  double sum = 0, sumsq = 0;
  float mn, mx;
  int64_t zeros = 0, nonfinite = 0, sat_t = 0, sat_s = 0;
};

#ifdef MB_HAVE_AVX2_TU
// Σ a², or Σ (a - b)² when b is not null, with 4-lane double accumulators (stats_avx2.cc).
double sum_sq_avx2(const float* a, const float* b, int64_t n);
// Adds the statistics of p[0..len) to acc; bin counts go to hist4 [bins][4] (four interleaved copies,
// so neighbouring values in one bin do not wait on each other) when bins > 0. With nz_per_value,
// nz_per_value[i] += (p[i] != 0). Returns how many of the len values are nonzero. Bins are computed
// in double exactly as tensor_stats_ref computes them.
int64_t stats_run_avx2(StatAcc& acc, uint32_t* hist4, int32_t* nz_per_value, const float* p, int64_t len,
                       double lo, double scale, int64_t bins);
#endif

}  // namespace mb
