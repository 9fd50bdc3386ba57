// stats.cc — one-pass buffer statistics (baseline x86-64 code: scalar bodies and dispatch).
// See stats.h for the slots. The fast tensor_stats runs the AVX2 body (stats_avx2.cc: eight values
// a step, bins counted into four interleaved copies) when the CPU has it and bins <= 1024; its
// scalar form differs from the reference only in keeping two partial sums per unit segment.
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

#ifdef MB_HAVE_AVX2_TU
namespace {

// Most bins the AVX2 path keeps on the stack (four uint32 copies each: 16 KiB).
constexpr int64_t kMaxFastBins = 1024;

void tensor_stats_avx2(double* out, double* hist, int32_t* unit_nonzero, const float* x, int64_t outer,
                       int64_t units, int64_t inner, double lo, double hi, int64_t bins) {
  uint32_t hist4[kMaxFastBins * 4];
  const int64_t nb = hist && bins > 0 ? bins : 0;
  for (int64_t b = 0; b < nb * 4; b++) hist4[b] = 0;
  if (unit_nonzero)
    for (int64_t u = 0; u < units; u++) unit_nonzero[u] = 0;
  const double scale = nb > 0 && hi > lo ? (double)nb / (hi - lo) : 0;
  StatAcc acc;
  acc.mn = std::numeric_limits<float>::infinity();
  acc.mx = -acc.mn;
  if (inner == 1) {
    // dense [N, D]: each row is one run, the nonzero counts add up per feature
    for (int64_t o = 0; o < outer; o++) stats_run_avx2(acc, hist4, unit_nonzero, x + o * units, units, lo, scale, nb);
  } else {
    for (int64_t seg = 0; seg < outer * units; seg++) {
      const int64_t nz = stats_run_avx2(acc, hist4, nullptr, x + seg * inner, inner, lo, scale, nb);
      if (unit_nonzero) unit_nonzero[seg % units] += (int32_t)nz;
    }
  }
  init_out(out);
  out[kStatSum] = acc.sum;
  out[kStatSumSq] = acc.sumsq;
  if (acc.mn <= acc.mx) {
    out[kStatMin] = acc.mn;
    out[kStatMax] = acc.mx;
  }
  out[kStatZeros] = (double)acc.zeros;
  out[kStatNonFinite] = (double)acc.nonfinite;
  out[kStatSatTanh] = (double)acc.sat_t;
  out[kStatSatSigmoid] = (double)acc.sat_s;
  for (int64_t b = 0; b < nb; b++)
    hist[b] = (double)hist4[b * 4] + hist4[b * 4 + 1] + hist4[b * 4 + 2] + hist4[b * 4 + 3];
}

}  // namespace
#endif

void tensor_stats(double* out, double* hist, int32_t* unit_nonzero, const float* x, int64_t outer,
                  int64_t units, int64_t inner, double lo, double hi, int64_t bins) {
#ifdef MB_HAVE_AVX2_TU
  if (simd_level() >= Simd::Avx2 && bins <= kMaxFastBins) {
    tensor_stats_avx2(out, hist, unit_nonzero, x, outer, units, inner, lo, hi, bins);
    return;
  }
#endif
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
