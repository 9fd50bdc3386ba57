// optim.cc — SGD, Adam/AdamW and RMSprop updates (baseline x86-64 code: scalar bodies, dispatch,
// OpenMP). See optim.h for the update rules and the rounding of hyper-parameters.
#include "optim.h"

#include <cmath>

#include "cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

namespace {

// Below this many values per thread, threads cost more than they save (the update is memory-bound).
constexpr int64_t kMinPerThread = 1 << 16;

// Calls fn(offset, count) over [0, n) in equal static chunks, one per thread. Elementwise updates
// give the same result however the range is split.
template <class Fn>
void for_chunks(int64_t n, Fn fn) {
  int nt = 1;
#ifdef _OPENMP
  if (n >= 2 * kMinPerThread && !omp_in_parallel()) {
    const int64_t most = n / kMinPerThread;
    nt = num_threads();
    if (nt > most) nt = (int)most;
  }
#endif
  if (nt <= 1) {
    fn(0, n);
    return;
  }
  // Chunks rounded up to 16 floats (64 bytes) so each starts on the same alignment as the array.
  const int64_t chunk = ((n + nt - 1) / nt + 15) / 16 * 16;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
  for (int t = 0; t < nt; t++) {
    const int64_t lo = (int64_t)t * chunk;
    if (lo < n) fn(lo, (n - lo < chunk) ? n - lo : chunk);
  }
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

}  // namespace mb
