// optim.h — optimizer updates over n contiguous floats, with torch.optim (1.13) numerics.
//
// Every update is elementwise, so a parameter arena of any length is one call. Hyper-parameters
// arrive as double and are rounded to float the way PyTorch rounds its Python scalars into a
// float32 tensor op (1 - beta1, -lr, ... are formed in double first, then rounded once).
// Operation order follows torch's single-tensor path (mul_ then add_, addcmul as (v·a)·b,
// addcdiv as (v·a)/b), so results agree to float32 rounding.
//
// Legend: n the number of values; every pointer below is [n].
// The fast entry points run OpenMP over large n (static chunks; elementwise, so the split cannot
// change a result) and use the AVX2 path when mb::simd_level() >= Simd::Avx2; the *_ref versions
// are the plain scalar loops (test oracle and fallback). No function here allocates or throws.
#pragma once

#include <cstdint>

namespace mb {

// SGD: g = grad + wd·param; with momentum != 0: buf = first_step ? g : momentum·buf + (1-dampening)·g,
// g = nesterov ? g + momentum·buf : buf; param -= lr·g. With momentum == 0, buf is not touched
// (it may be null). grad is read only.
void sgd_step(float* param, float* buf, const float* grad, int64_t n, double lr, double momentum,
              double dampening, double weight_decay, bool nesterov, bool first_step);
void sgd_step_ref(float* param, float* buf, const float* grad, int64_t n, double lr, double momentum,
                  double dampening, double weight_decay, bool nesterov, bool first_step);

// Adam (decoupled false: g = grad + wd·param) and AdamW (decoupled true: param *= 1 - lr·wd);
// m = beta1·m + (1-beta1)·g, v = beta2·v + (1-beta2)·g·g,
// param -= lr/(1-beta1^step) · m / (sqrt(v)/sqrt(1-beta2^step) + eps). step is 1-based.
void adam_step(float* param, float* m, float* v, const float* grad, int64_t n, double lr, double beta1,
               double beta2, double eps, double weight_decay, bool decoupled, int64_t step);
void adam_step_ref(float* param, float* m, float* v, const float* grad, int64_t n, double lr, double beta1,
                   double beta2, double eps, double weight_decay, bool decoupled, int64_t step);

// RMSprop (not centered): g = grad + wd·param, sq = alpha·sq + (1-alpha)·g·g, avg = sqrt(sq) + eps;
// momentum > 0: buf = momentum·buf + g/avg, param -= lr·buf; else param -= lr·g/avg (buf may be null).
void rmsprop_step(float* param, float* sq, float* buf, const float* grad, int64_t n, double lr, double alpha,
                  double eps, double weight_decay, double momentum);
void rmsprop_step_ref(float* param, float* sq, float* buf, const float* grad, int64_t n, double lr,
                      double alpha, double eps, double weight_decay, double momentum);

// The float constants each update uses, rounded once from the double hyper-parameters.
struct SgdConsts {
  float neg_lr, momentum, one_minus_damp, wd;
  bool use_momentum, nesterov, first_step;
};
struct AdamConsts {
  float neg_step_size, beta1, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, wd, decay;
  bool decoupled, use_wd;
};
struct RmspropConsts {
  float neg_lr, alpha, one_minus_alpha, eps, wd, momentum;
  bool use_momentum, use_wd;
};

#ifdef MB_HAVE_AVX2_TU
// AVX2 bodies over one chunk (optim_avx2.cc); only called when simd_level() >= Simd::Avx2.
void sgd_chunk_avx2(float* param, float* buf, const float* grad, int64_t n, const SgdConsts& c);
void adam_chunk_avx2(float* param, float* m, float* v, const float* grad, int64_t n, const AdamConsts& c);
void rmsprop_chunk_avx2(float* param, float* sq, float* buf, const float* grad, int64_t n, const RmspropConsts& c);
#endif

}  // namespace mb
