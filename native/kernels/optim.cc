// optim.cc — SGD, Adam/AdamW and RMSprop updates and their guarded forms (baseline x86-64 code:
// scalar bodies, dispatch, OpenMP). See optim.h for the update rules, the rounding of
// hyper-parameters and what the guarded forms add.
#include "optim.h"

#include <cmath>
#include <cstring>
#include <xmmintrin.h>  // _mm_sfence (SSE, part of baseline x86-64)

#include "cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

namespace {

// Below this many values per thread, threads cost more than they save (the update is memory-bound).
constexpr int64_t kMinPerThread = 1 << 16;

// Threads for an update over n values.
int threads_over(int64_t n) {
  int nt = 1;
#ifdef _OPENMP
  if (n >= 2 * kMinPerThread && !omp_in_parallel()) {
    const int64_t most = n / kMinPerThread;
    nt = num_threads();
    if (nt > most) nt = (int)most;
  }
#else
  (void)n;
#endif
  return nt;
}

// Each thread's share of n values: rounded up to 16 floats (64 bytes) so each starts on the same
// alignment as the array.
int64_t thread_span(int64_t n, int nt) { return ((n + nt - 1) / nt + 15) / 16 * 16; }

// Calls fn(offset, count) over [0, n) in equal static chunks, one per thread. Elementwise updates
// give the same result however the range is split.
template <class Fn>
void for_chunks(int64_t n, Fn fn) {
  const int nt = threads_over(n);
  if (nt <= 1) {
    fn(0, n);
    return;
  }
  const int64_t chunk = thread_span(n, nt);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
  for (int t = 0; t < nt; t++) {
    const int64_t lo = (int64_t)t * chunk;
    if (lo < n) fn(lo, (n - lo < chunk) ? n - lo : chunk);
  }
}

// for_chunks for an fn that returns whether its range passed a check: whether every range did. The
// flag is a logical and, so it depends neither on the split nor on the order the threads finish.
template <class Fn>
bool for_chunks_all(int64_t n, Fn fn) {
  const int nt = threads_over(n);
  if (nt <= 1) return fn(0, n);
  const int64_t chunk = thread_span(n, nt);
  bool ok = true;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt) reduction(&& : ok)
#endif
  for (int t = 0; t < nt; t++) {
    const int64_t lo = (int64_t)t * chunk;
    if (lo < n) ok = fn(lo, (n - lo < chunk) ? n - lo : chunk) && ok;  // fn first: every range is updated
  }
  return ok;
}

// A state array of a guarded update and its backup; both null when the update does not use it.
struct Saved {
  const float* live;
  float* bak;
};

using FiniteFn = bool (*)(const float*, int64_t);
using CopyFn = void (*)(float*, const float*, int64_t);

FiniteFn finite_fn() { return pick_simd<FiniteFn>(nullptr, MB_AVX2(all_finite_avx2), all_finite_ref); }

void copy_plain(float* dst, const float* src, int64_t n) { std::memcpy(dst, src, (size_t)n * sizeof(float)); }
CopyFn copy_fn() { return pick_simd<CopyFn>(nullptr, MB_AVX2(copy_stream_avx2), copy_plain); }

// One thread's range [lo, lo + len) of a guarded update, optim_guard_chunk() floats at a time: copy
// the chunk's params and states into their backups, update(offset, count) it, check its new params.
// Each chunk is still in cache when the update reads it after the copy and when the check reads
// what the update wrote, so the guard costs the backups' writes rather than three more passes over
// memory; on the AVX2 path those writes are non-temporal (copy_stream_avx2). Once a chunk fails
// the check the later ones are only copied and updated.
template <class Update>
bool guarded_range(float* param, float* bak_param, Saved s0, Saved s1, int64_t lo, int64_t len, Update update) {
  const FiniteFn finite = finite_fn();
  const CopyFn copy = copy_fn();
  const int64_t step = optim_guard_chunk();
  bool ok = true;
  for (int64_t at = lo, end = lo + len; at < end; at += step) {
    const int64_t m = end - at < step ? end - at : step;
    copy(bak_param + at, param + at, m);
    if (s0.bak) copy(s0.bak + at, s0.live + at, m);
    if (s1.bak) copy(s1.bak + at, s1.live + at, m);
    update(at, m);
    if (ok) ok = finite(param + at, m);
  }
  _mm_sfence();  // the backups' non-temporal stores are visible before the caller reads them
  return ok;
}

SgdConsts sgd_consts(double lr, double momentum, double dampening, double wd, bool nesterov, bool first_step) {
  SgdConsts c;
  c.neg_lr = (float)(-lr);
  c.momentum = (float)momentum;
  c.one_minus_damp = (float)(1.0 - dampening);
  c.wd = (float)wd;
  c.use_momentum = momentum != 0.0;
  c.nesterov = nesterov;
  c.first_step = first_step;
  return c;
}

AdamConsts adam_consts(double lr, double beta1, double beta2, double eps, double wd, bool decoupled, int64_t step) {
  AdamConsts c;
  const double bc1 = 1.0 - std::pow(beta1, (double)step);
  const double bc2 = 1.0 - std::pow(beta2, (double)step);
  c.neg_step_size = (float)(-(lr / bc1));
  c.beta1 = (float)beta1;
  c.one_minus_beta1 = (float)(1.0 - beta1);
  c.beta2 = (float)beta2;
  c.one_minus_beta2 = (float)(1.0 - beta2);
  c.bc2_sqrt = (float)std::sqrt(bc2);
  c.eps = (float)eps;
  c.wd = (float)wd;
  c.decay = (float)(1.0 - lr * wd);
  c.decoupled = decoupled;
  c.use_wd = !decoupled && wd != 0.0;
  return c;
}

RmspropConsts rmsprop_consts(double lr, double alpha, double eps, double wd, double momentum) {
  RmspropConsts c;
  c.neg_lr = (float)(-lr);
  c.alpha = (float)alpha;
  c.one_minus_alpha = (float)(1.0 - alpha);
  c.eps = (float)eps;
  c.wd = (float)wd;
  c.momentum = (float)momentum;
  c.use_momentum = momentum > 0.0;
  c.use_wd = wd != 0.0;
  return c;
}

// ------------------------------------------------------------------ scalar bodies over one chunk

void sgd_chunk(float* param, float* buf, const float* grad, int64_t n, const SgdConsts& c) {
  for (int64_t i = 0; i < n; i++) {
    const float p = param[i];
    float g = grad[i];
    if (c.wd != 0.0f) g = g + c.wd * p;  // d_p.add(param, alpha=wd)
    if (c.use_momentum) {
      const float b = c.first_step ? g : buf[i] * c.momentum + c.one_minus_damp * g;
      buf[i] = b;
      g = c.nesterov ? g + c.momentum * b : b;
    }
    param[i] = p + c.neg_lr * g;  // param.add_(d_p, alpha=-lr)
  }
}

void adam_chunk(float* param, float* m, float* v, const float* grad, int64_t n, const AdamConsts& c) {
  for (int64_t i = 0; i < n; i++) {
    float p = param[i];
    float g = grad[i];
    if (c.decoupled) p = p * c.decay;   // param.mul_(1 - lr·wd)
    else if (c.use_wd) g = g + c.wd * p;  // grad.add(param, alpha=wd)
    const float mi = m[i] * c.beta1 + c.one_minus_beta1 * g;
    const float vi = v[i] * c.beta2 + (c.one_minus_beta2 * g) * g;  // addcmul: (value·g)·g
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / c.bc2_sqrt + c.eps;
    param[i] = p + (c.neg_step_size * mi) / denom;  // addcdiv: (value·m)/denom
  }
}

void rmsprop_chunk(float* param, float* sq, float* buf, const float* grad, int64_t n, const RmspropConsts& c) {
  for (int64_t i = 0; i < n; i++) {
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

bool use_avx2() {
#ifdef MB_HAVE_AVX2_TU
  return simd_level() >= Simd::Avx2;
#else
  return false;
#endif
}

}  // namespace

int64_t optim_guard_chunk() {
  static const int64_t chunk = [] {
    int64_t c = cache_sizes().l2 / 64 / 16 * 16;  // l2 / 4 bytes a float / 4 arrays / 4
    if (c < 2048) c = 2048;
    if (c > 32768) c = 32768;
    return c;
  }();
  return chunk;
}

// A float is NaN or ±inf exactly when its exponent bits are all ones. Branch-free over the bits, so
// the compiler vectorizes it even in this baseline file (SSE2 compares and ors).
bool all_finite_ref(const float* x, int64_t n) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    std::memcpy(&u, x + i, sizeof u);
    bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

// ------------------------------------------------------------------ references

void sgd_step_ref(float* param, float* buf, const float* grad, int64_t n, double lr, double momentum,
                  double dampening, double weight_decay, bool nesterov, bool first_step) {
  sgd_chunk(param, buf, grad, n, sgd_consts(lr, momentum, dampening, weight_decay, nesterov, first_step));
}

void adam_step_ref(float* param, float* m, float* v, const float* grad, int64_t n, double lr, double beta1,
                   double beta2, double eps, double weight_decay, bool decoupled, int64_t step) {
  adam_chunk(param, m, v, grad, n, adam_consts(lr, beta1, beta2, eps, weight_decay, decoupled, step));
}

void rmsprop_step_ref(float* param, float* sq, float* buf, const float* grad, int64_t n, double lr,
                      double alpha, double eps, double weight_decay, double momentum) {
  rmsprop_chunk(param, sq, buf, grad, n, rmsprop_consts(lr, alpha, eps, weight_decay, momentum));
}

// ------------------------------------------------------------------ dispatch

void sgd_step(float* param, float* buf, const float* grad, int64_t n, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool first_step) {
  const SgdConsts c = sgd_consts(lr, momentum, dampening, weight_decay, nesterov, first_step);
  [[maybe_unused]] const bool avx2 = use_avx2();
  for_chunks(n, [&](int64_t lo, int64_t len) {
    float* b = c.use_momentum ? buf + lo : nullptr;
#ifdef MB_HAVE_AVX2_TU
    if (avx2) return sgd_chunk_avx2(param + lo, b, grad + lo, len, c);
#endif
    sgd_chunk(param + lo, b, grad + lo, len, c);
  });
}

void adam_step(float* param, float* m, float* v, const float* grad, int64_t n, double lr, double beta1,
               double beta2, double eps, double weight_decay, bool decoupled, int64_t step) {
  const AdamConsts c = adam_consts(lr, beta1, beta2, eps, weight_decay, decoupled, step);
  [[maybe_unused]] const bool avx2 = use_avx2();
  for_chunks(n, [&](int64_t lo, int64_t len) {
#ifdef MB_HAVE_AVX2_TU
    if (avx2) return adam_chunk_avx2(param + lo, m + lo, v + lo, grad + lo, len, c);
#endif
    adam_chunk(param + lo, m + lo, v + lo, grad + lo, len, c);
  });
}

void rmsprop_step(float* param, float* sq, float* buf, const float* grad, int64_t n, double lr, double alpha,
                  double eps, double weight_decay, double momentum) {
  const RmspropConsts c = rmsprop_consts(lr, alpha, eps, weight_decay, momentum);
  [[maybe_unused]] const bool avx2 = use_avx2();
  for_chunks(n, [&](int64_t lo, int64_t len) {
    float* b = c.use_momentum ? buf + lo : nullptr;
#ifdef MB_HAVE_AVX2_TU
    if (avx2) return rmsprop_chunk_avx2(param + lo, sq + lo, b, grad + lo, len, c);
#endif
    rmsprop_chunk(param + lo, sq + lo, b, grad + lo, len, c);
  });
}

// ------------------------------------------------------------------ guarded dispatch

bool sgd_step_guarded(float* param, float* buf, float* bak_param, float* bak_buf, const float* grad, int64_t n,
                      double lr, double momentum, double dampening, double weight_decay, bool nesterov,
                      bool first_step) {
  const SgdConsts c = sgd_consts(lr, momentum, dampening, weight_decay, nesterov, first_step);
  [[maybe_unused]] const bool avx2 = use_avx2();
  const Saved sb = c.use_momentum ? Saved{buf, bak_buf} : Saved{nullptr, nullptr};
  return for_chunks_all(n, [&](int64_t lo, int64_t len) {
    return guarded_range(param, bak_param, sb, Saved{nullptr, nullptr}, lo, len, [&](int64_t at, int64_t m) {
      float* b = c.use_momentum ? buf + at : nullptr;
#ifdef MB_HAVE_AVX2_TU
      if (avx2) return sgd_chunk_avx2(param + at, b, grad + at, m, c);
#endif
      sgd_chunk(param + at, b, grad + at, m, c);
    });
  });
}

bool adam_step_guarded(float* param, float* m, float* v, float* bak_param, float* bak_m, float* bak_v,
                       const float* grad, int64_t n, double lr, double beta1, double beta2, double eps,
                       double weight_decay, bool decoupled, int64_t step) {
  const AdamConsts c = adam_consts(lr, beta1, beta2, eps, weight_decay, decoupled, step);
  [[maybe_unused]] const bool avx2 = use_avx2();
  return for_chunks_all(n, [&](int64_t lo, int64_t len) {
    return guarded_range(param, bak_param, Saved{m, bak_m}, Saved{v, bak_v}, lo, len, [&](int64_t at, int64_t k) {
#ifdef MB_HAVE_AVX2_TU
      if (avx2) return adam_chunk_avx2(param + at, m + at, v + at, grad + at, k, c);
#endif
      adam_chunk(param + at, m + at, v + at, grad + at, k, c);
    });
  });
}

bool rmsprop_step_guarded(float* param, float* sq, float* buf, float* bak_param, float* bak_sq, float* bak_buf,
                          const float* grad, int64_t n, double lr, double alpha, double eps, double weight_decay,
                          double momentum) {
  const RmspropConsts c = rmsprop_consts(lr, alpha, eps, weight_decay, momentum);
  [[maybe_unused]] const bool avx2 = use_avx2();
  const Saved sb = c.use_momentum ? Saved{buf, bak_buf} : Saved{nullptr, nullptr};
  return for_chunks_all(n, [&](int64_t lo, int64_t len) {
    return guarded_range(param, bak_param, Saved{sq, bak_sq}, sb, lo, len, [&](int64_t at, int64_t k) {
      float* b = c.use_momentum ? buf + at : nullptr;
#ifdef MB_HAVE_AVX2_TU
      if (avx2) return rmsprop_chunk_avx2(param + at, sq + at, b, grad + at, k, c);
#endif
      rmsprop_chunk(param + at, sq + at, b, grad + at, k, c);
    });
  });
}

}  // namespace mb
