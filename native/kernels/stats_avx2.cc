// stats_avx2.cc — AVX2 bodies of the statistics kernels (compiled with -mavx2 -mfma alone; called
// only when simd_level() >= Simd::Avx2): sums of squares for param_stats and runs of tensor_stats.
// Floats are widened to double before any sum, so results differ from the scalar loops only in the
// order of the double additions; counts, bounds and bins are exactly the reference's.
#include <immintrin.h>

#include "stats.h"

namespace mb {

double sum_sq_avx2(const float* a, const float* b, int64_t n) {
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(a + i));
    __m256d hi = _mm256_cvtps_pd(_mm_loadu_ps(a + i + 4));
    if (b) {
      lo = _mm256_sub_pd(lo, _mm256_cvtps_pd(_mm_loadu_ps(b + i)));
      hi = _mm256_sub_pd(hi, _mm256_cvtps_pd(_mm_loadu_ps(b + i + 4)));
    }
    acc0 = _mm256_fmadd_pd(lo, lo, acc0);
    acc1 = _mm256_fmadd_pd(hi, hi, acc1);
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  double s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; i++) {
    const double d = b ? (double)a[i] - b[i] : (double)a[i];
    s += d * d;
  }
  return s;
}

}  // namespace mb

namespace mb {

namespace {

// One value of any kind (tails, and vectors holding a NaN or an infinity); mirrors tensor_stats_ref.
inline bool one_value(StatAcc& a, uint32_t* hist4, int lane, float v, double lo, double scale, int64_t bins) {
  if (!(v - v == 0.0f)) {  // NaN or ±inf
    a.nonfinite++;
    return true;
  }
  a.sum += v;
  a.sumsq += (double)v * v;
  a.mn = v < a.mn ? v : a.mn;
  a.mx = v > a.mx ? v : a.mx;
  a.zeros += v == 0;
  a.sat_t += (v > 0.99f || v < -0.99f);
  a.sat_s += (v < 0.01f || v > 0.99f);
  if (bins > 0) {
    const double b = ((double)v - lo) * scale;
    int64_t i = b >= 0 ? (int64_t)b : 0;
    if (i >= bins) i = bins - 1;
    hist4[i * 4 + lane]++;
  }
  return v != 0;
}

inline int popcnt8(__m256 mask) { return __builtin_popcount((unsigned)_mm256_movemask_ps(mask)); }

}  // namespace

int64_t stats_run_avx2(StatAcc& acc, uint32_t* hist4, int32_t* nz_per_value, const float* p, int64_t len,
                       double lo, double scale, int64_t bins) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd(), q0 = _mm256_setzero_pd(), q1 = _mm256_setzero_pd();
  __m256 vmn = _mm256_set1_ps(acc.mn), vmx = _mm256_set1_ps(acc.mx);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 inf = _mm256_set1_ps(__builtin_inff());
  const __m256 hi99 = _mm256_set1_ps(0.99f), lo01 = _mm256_set1_ps(0.01f), zero = _mm256_setzero_ps();
  const __m256d vlo = _mm256_set1_pd(lo), vscale = _mm256_set1_pd(scale), dzero = _mm256_setzero_pd();
  const __m256d vtop = _mm256_set1_pd((double)(bins > 0 ? bins - 1 : 0));
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3);
  int64_t zeros = 0, sat_t = 0, sat_s = 0, nonzero = 0;
  alignas(32) int32_t idx[8];
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) {
    const __m256 v = _mm256_loadu_ps(p + i);
    const __m256 a = _mm256_and_ps(v, abs_mask);
    if (_mm256_movemask_ps(_mm256_cmp_ps(a, inf, _CMP_LT_OQ)) != 0xff) {  // a NaN or an infinity
      for (int k = 0; k < 8; k++) {
        const bool nz = one_value(acc, hist4, k & 3, p[i + k], lo, scale, bins);
        nonzero += nz;
        if (nz_per_value) nz_per_value[i + k] += nz;
      }
      continue;
    }
    const __m256d dl = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    const __m256d dh = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    s0 = _mm256_add_pd(s0, dl);
    s1 = _mm256_add_pd(s1, dh);
    q0 = _mm256_fmadd_pd(dl, dl, q0);
    q1 = _mm256_fmadd_pd(dh, dh, q1);
    vmn = _mm256_min_ps(vmn, v);
    vmx = _mm256_max_ps(vmx, v);
    const __m256 is_zero = _mm256_cmp_ps(v, zero, _CMP_EQ_OQ);
    const int nz8 = 8 - popcnt8(is_zero);
    zeros += 8 - nz8;
    nonzero += nz8;
    sat_t += popcnt8(_mm256_cmp_ps(a, hi99, _CMP_GT_OQ));
    sat_s += popcnt8(_mm256_or_ps(_mm256_cmp_ps(v, lo01, _CMP_LT_OQ), _mm256_cmp_ps(v, hi99, _CMP_GT_OQ)));
    if (nz_per_value) {
      const __m256i one_if_nz = _mm256_andnot_si256(_mm256_castps_si256(is_zero), _mm256_set1_epi32(1));
      __m256i c = _mm256_loadu_si256((const __m256i*)(nz_per_value + i));
      _mm256_storeu_si256((__m256i*)(nz_per_value + i), _mm256_add_epi32(c, one_if_nz));
    }
    if (bins > 0) {
      // b = clamp((v - lo) * scale, 0, bins - 1), truncated: the reference's bin in double
      const __m256d bl = _mm256_min_pd(_mm256_max_pd(_mm256_mul_pd(_mm256_sub_pd(dl, vlo), vscale), dzero), vtop);
      const __m256d bh = _mm256_min_pd(_mm256_max_pd(_mm256_mul_pd(_mm256_sub_pd(dh, vlo), vscale), dzero), vtop);
      const __m256i bi = _mm256_setr_m128i(_mm256_cvttpd_epi32(bl), _mm256_cvttpd_epi32(bh));
      _mm256_store_si256((__m256i*)idx, _mm256_add_epi32(_mm256_slli_epi32(bi, 2), lanes));
      for (int k = 0; k < 8; k++) hist4[idx[k]]++;
    }
  }
  // reduce the vector partials in a fixed order
  alignas(32) double t[4];
  _mm256_store_pd(t, _mm256_add_pd(s0, s1));
  acc.sum += (t[0] + t[1]) + (t[2] + t[3]);
  _mm256_store_pd(t, _mm256_add_pd(q0, q1));
  acc.sumsq += (t[0] + t[1]) + (t[2] + t[3]);
  alignas(32) float m[8];
  _mm256_store_ps(m, vmn);
  for (int k = 0; k < 8; k++) acc.mn = m[k] < acc.mn ? m[k] : acc.mn;
  _mm256_store_ps(m, vmx);
  for (int k = 0; k < 8; k++) acc.mx = m[k] > acc.mx ? m[k] : acc.mx;
  acc.zeros += zeros;
  acc.sat_t += sat_t;
  acc.sat_s += sat_s;
  for (; i < len; i++) {
    const bool nz = one_value(acc, hist4, (int)(i & 3), p[i], lo, scale, bins);
    nonzero += nz;
    if (nz_per_value) nz_per_value[i] += nz;
  }
  return nonzero;
}

}  // namespace mb
