// stats.cc — one-pass buffer statistics (baseline x86-64 code: scalar bodies and dispatch).
// See stats.h for the slots. The fast tensor_stats differs from the reference only in keeping
// running partial sums per unit segment (then adding them in order), which shortens the dependency
// chain; the histogram is a scalar scatter in both.
#include "stats.h"

#include <cmath>
#include <limits>

#include "cpu.h"

namespace mb {

namespace {

inline int64_t bin_of(float v, double lo, double scale, int64_t bins) {
  const double b = ((double)v - lo) * scale;
  if (!(b >= 0)) return 0;
  const int64_t i = (int64_t)b;
  return i >= bins ? bins - 1 : i;
}

void init_out(double* out) {
  for (int i = 0; i < kStatSlots; i++) out[i] = 0;
  out[kStatMin] = std::numeric_limits<double>::infinity();
  out[kStatMax] = -std::numeric_limits<double>::infinity();
}

}  // namespace

void tensor_stats_ref(double* out, double* hist, int32_t* unit_nonzero, const float* x, int64_t outer,
                      int64_t units, int64_t inner, double lo, double hi, int64_t bins) {
  init_out(out);
  if (hist)
    for (int64_t b = 0; b < bins; b++) hist[b] = 0;
  if (unit_nonzero)
    for (int64_t u = 0; u < units; u++) unit_nonzero[u] = 0;
  const double scale = bins > 0 && hi > lo ? (double)bins / (hi - lo) : 0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t u = 0; u < units; u++)
      for (int64_t i = 0; i < inner; i++) {
        const float v = x[(o * units + u) * inner + i];
        if (v != 0 && unit_nonzero) unit_nonzero[u]++;
        if (!std::isfinite(v)) {
          out[kStatNonFinite] += 1;
          continue;
        }
        out[kStatSum] += v;
        out[kStatSumSq] += (double)v * v;
        if (v < out[kStatMin]) out[kStatMin] = v;
        if (v > out[kStatMax]) out[kStatMax] = v;
        if (v == 0) out[kStatZeros] += 1;
        if (std::fabs(v) > 0.99f) out[kStatSatTanh] += 1;
        if (v < 0.01f || v > 0.99f) out[kStatSatSigmoid] += 1;
        if (hist && bins > 0) hist[bin_of(v, lo, scale, bins)] += 1;
      }
}

void tensor_stats(double* out, double* hist, int32_t* unit_nonzero, const float* x, int64_t outer,
                  int64_t units, int64_t inner, double lo, double hi, int64_t bins) {
  init_out(out);
  if (hist)
    for (int64_t b = 0; b < bins; b++) hist[b] = 0;
  if (unit_nonzero)
    for (int64_t u = 0; u < units; u++) unit_nonzero[u] = 0;
  const bool with_hist = hist && bins > 0;
  const double scale = bins > 0 && hi > lo ? (double)bins / (hi - lo) : 0;
  float mn = std::numeric_limits<float>::infinity(), mx = -mn;
  int64_t zeros = 0, nonfinite = 0, sat_t = 0, sat_s = 0;
  for (int64_t seg = 0; seg < outer * units; seg++) {
    const float* p = x + seg * inner;
    double s0 = 0, s1 = 0, q0 = 0, q1 = 0;
    int64_t nz = 0;
    // one value, any kind (the tail, and pairs holding a NaN or an infinity)
    auto one = [&](float a) {
      nz += a != 0;
      if (!std::isfinite(a)) {
        nonfinite++;
        return;
      }
      s0 += a;
      q0 += (double)a * a;
      mn = a < mn ? a : mn;
      mx = a > mx ? a : mx;
      zeros += a == 0;
      sat_t += std::fabs(a) > 0.99f;
      sat_s += a < 0.01f || a > 0.99f;
      if (with_hist) hist[bin_of(a, lo, scale, bins)] += 1;
    };
    int64_t i = 0;
    for (; i + 1 < inner; i += 2) {
      const float a = p[i], b = p[i + 1];
      if (!(std::isfinite(a) && std::isfinite(b))) {
        one(a);
        one(b);
        continue;
      }
      nz += (a != 0) + (b != 0);
      s0 += a;
      s1 += b;
      q0 += (double)a * a;
      q1 += (double)b * b;
      mn = a < mn ? a : mn;
      mn = b < mn ? b : mn;
      mx = a > mx ? a : mx;
      mx = b > mx ? b : mx;
      zeros += (a == 0) + (b == 0);
      sat_t += (std::fabs(a) > 0.99f) + (std::fabs(b) > 0.99f);
      sat_s += (a < 0.01f || a > 0.99f) + (b < 0.01f || b > 0.99f);
      if (with_hist) {
        hist[bin_of(a, lo, scale, bins)] += 1;
        hist[bin_of(b, lo, scale, bins)] += 1;
      }
    }
    if (i < inner) one(p[i]);
    out[kStatSum] += s0 + s1;
    out[kStatSumSq] += q0 + q1;
    if (unit_nonzero) unit_nonzero[seg % units] += (int32_t)nz;
  }
  if (mn <= mx) {
    out[kStatMin] = mn;
    out[kStatMax] = mx;
  }
  out[kStatZeros] = (double)zeros;
  out[kStatNonFinite] = (double)nonfinite;
  out[kStatSatTanh] = (double)sat_t;
  out[kStatSatSigmoid] = (double)sat_s;
}

void param_stats_ref(double* out, const float* w, const float* prev, const float* g, int64_t n) {
  out[0] = out[1] = out[2] = 0;
  for (int64_t i = 0; i < n; i++) {
    out[0] += (double)w[i] * w[i];
    if (prev) {
      const double d = (double)w[i] - prev[i];
      out[1] += d * d;
    }
    if (g) out[2] += (double)g[i] * g[i];
  }
}

void param_stats(double* out, const float* w, const float* prev, const float* g, int64_t n) {
#ifdef MB_HAVE_AVX2_TU
  if (simd_level() >= Simd::Avx2) {
    out[0] = sum_sq_avx2(w, nullptr, n);
    out[1] = prev ? sum_sq_avx2(w, prev, n) : 0;
    out[2] = g ? sum_sq_avx2(g, nullptr, n) : 0;
    return;
  }
#endif
  param_stats_ref(out, w, prev, g, n);
}

}  // namespace mb
