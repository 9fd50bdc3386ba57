// optim_avx2.cc — AVX2 bodies of the optimizer updates (compiled with -mavx2 -mfma; called only when
// mb::simd_level() >= Simd::Avx2). Eight floats a step with the scalar tail in the same order of
// operations. No fused multiply-add: every product and sum rounds as in the scalar reference, so
// this path agrees with *_ref bit for bit. Also the guarded updates' finite check and backup copy.
// The compiler would otherwise fuse a*b + c into one FMA (GCC does so at -O3 even in ISO mode).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "optim.h"

namespace mb {

void sgd_chunk_avx2(float* param, float* buf, const float* grad, int64_t n, const SgdConsts& c) {
  const __m256 neg_lr = _mm256_set1_ps(c.neg_lr), mom = _mm256_set1_ps(c.momentum),
               omd = _mm256_set1_ps(c.one_minus_damp), wd = _mm256_set1_ps(c.wd);
  const bool use_wd = c.wd != 0.0f;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 p = _mm256_loadu_ps(param + i);
    __m256 g = _mm256_loadu_ps(grad + i);
    if (use_wd) g = _mm256_add_ps(g, _mm256_mul_ps(wd, p));
    if (c.use_momentum) {
      const __m256 b = c.first_step
                           ? g
                           : _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(buf + i), mom), _mm256_mul_ps(omd, g));
      _mm256_storeu_ps(buf + i, b);
      g = c.nesterov ? _mm256_add_ps(g, _mm256_mul_ps(mom, b)) : b;
    }
    _mm256_storeu_ps(param + i, _mm256_add_ps(p, _mm256_mul_ps(neg_lr, g)));
  }
  for (; i < n; i++) {
    const float p = param[i];
    float g = grad[i];
    if (use_wd) g = g + c.wd * p;
    if (c.use_momentum) {
      const float b = c.first_step ? g : buf[i] * c.momentum + c.one_minus_damp * g;
      buf[i] = b;
      g = c.nesterov ? g + c.momentum * b : b;
    }
    param[i] = p + c.neg_lr * g;
  }
}

void adam_chunk_avx2(float* param, float* m, float* v, const float* grad, int64_t n, const AdamConsts& c) {
  const __m256 nss = _mm256_set1_ps(c.neg_step_size), b1 = _mm256_set1_ps(c.beta1),
               omb1 = _mm256_set1_ps(c.one_minus_beta1), b2 = _mm256_set1_ps(c.beta2),
               omb2 = _mm256_set1_ps(c.one_minus_beta2), bc2 = _mm256_set1_ps(c.bc2_sqrt),
               eps = _mm256_set1_ps(c.eps), wd = _mm256_set1_ps(c.wd), decay = _mm256_set1_ps(c.decay);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 p = _mm256_loadu_ps(param + i);
    __m256 g = _mm256_loadu_ps(grad + i);
    if (c.decoupled) p = _mm256_mul_ps(p, decay);
    else if (c.use_wd) g = _mm256_add_ps(g, _mm256_mul_ps(wd, p));
    const __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), b1), _mm256_mul_ps(omb1, g));
    const __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), b2), _mm256_mul_ps(_mm256_mul_ps(omb2, g), g));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc2), eps);
    _mm256_storeu_ps(param + i, _mm256_add_ps(p, _mm256_div_ps(_mm256_mul_ps(nss, mi), denom)));
  }
  for (; i < n; i++) {
    float p = param[i];
    float g = grad[i];
    if (c.decoupled) p = p * c.decay;
    else if (c.use_wd) g = g + c.wd * p;
    const float mi = m[i] * c.beta1 + c.one_minus_beta1 * g;
    const float vi = v[i] * c.beta2 + (c.one_minus_beta2 * g) * g;
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / c.bc2_sqrt + c.eps;
    param[i] = p + (c.neg_step_size * mi) / denom;
  }
}

void rmsprop_chunk_avx2(float* param, float* sq, float* buf, const float* grad, int64_t n, const RmspropConsts& c) {
  const __m256 neg_lr = _mm256_set1_ps(c.neg_lr), alpha = _mm256_set1_ps(c.alpha),
               oma = _mm256_set1_ps(c.one_minus_alpha), eps = _mm256_set1_ps(c.eps), wd = _mm256_set1_ps(c.wd),
               mom = _mm256_set1_ps(c.momentum);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 p = _mm256_loadu_ps(param + i);
    __m256 g = _mm256_loadu_ps(grad + i);
    if (c.use_wd) g = _mm256_add_ps(g, _mm256_mul_ps(wd, p));
    const __m256 s = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(sq + i), alpha), _mm256_mul_ps(_mm256_mul_ps(oma, g), g));
    _mm256_storeu_ps(sq + i, s);
    const __m256 avg = _mm256_add_ps(_mm256_sqrt_ps(s), eps);
    if (c.use_momentum) {
      const __m256 b = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(buf + i), mom), _mm256_div_ps(g, avg));
      _mm256_storeu_ps(buf + i, b);
      _mm256_storeu_ps(param + i, _mm256_add_ps(p, _mm256_mul_ps(neg_lr, b)));
    } else {
      _mm256_storeu_ps(param + i, _mm256_add_ps(p, _mm256_div_ps(_mm256_mul_ps(neg_lr, g), avg)));
    }
  }
  for (; i < n; i++) {
    const float p = param[i];
    float g = grad[i];
    if (c.use_wd) g = g + c.wd * p;
    const float s = sq[i] * c.alpha + (c.one_minus_alpha * g) * g;
    sq[i] = s;
    const float avg = std::sqrt(s) + c.eps;
    if (c.use_momentum) {
      const float b = buf[i] * c.momentum + g / avg;
      buf[i] = b;
      param[i] = p + c.neg_lr * b;
    } else {
      param[i] = p + (c.neg_lr * g) / avg;
    }
  }
}

// Sixteen floats a step into two accumulators, then eight, then the scalar tail. A lane is NaN or
// ±inf exactly when its exponent bits are all ones.
bool all_finite_avx2(const float* x, int64_t n) {
  const __m256i expo = _mm256_set1_epi32(0x7f800000);
  __m256i bad0 = _mm256_setzero_si256(), bad1 = _mm256_setzero_si256();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = _mm256_and_si256(_mm256_castps_si256(_mm256_loadu_ps(x + i)), expo);
    const __m256i b = _mm256_and_si256(_mm256_castps_si256(_mm256_loadu_ps(x + i + 8)), expo);
    bad0 = _mm256_or_si256(bad0, _mm256_cmpeq_epi32(a, expo));
    bad1 = _mm256_or_si256(bad1, _mm256_cmpeq_epi32(b, expo));
  }
  for (; i + 8 <= n; i += 8) {
    const __m256i a = _mm256_and_si256(_mm256_castps_si256(_mm256_loadu_ps(x + i)), expo);
    bad0 = _mm256_or_si256(bad0, _mm256_cmpeq_epi32(a, expo));
  }
  const __m256i bad = _mm256_or_si256(bad0, bad1);
  bool ok = _mm256_testz_si256(bad, bad) != 0;
  for (; i < n; i++) ok = ok && std::isfinite(x[i]);
  return ok;
}

// Plain loads, non-temporal stores from the first 32-byte boundary of dst on. The caller fences
// (_mm_sfence) before anything reads dst.
void copy_stream_avx2(float* dst, const float* src, int64_t n) {
  int64_t i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(dst + i) & 31) != 0; i++) dst[i] = src[i];
  for (; i + 16 <= n; i += 16) {
    _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
    _mm256_stream_ps(dst + i + 8, _mm256_loadu_ps(src + i + 8));
  }
  for (; i + 8 <= n; i += 8) _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
  for (; i < n; i++) dst[i] = src[i];
}

}  // namespace mb
