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

// Guarded updates: the update above and, fused into the same pass, what a trainer's NaN/Inf guard
// needs around it. Chunk by chunk (optim_guard_chunk() floats, so a chunk's arrays are still in L2
// at each of its three touches): the chunk's param and state values are copied into the bak_* arrays
// (the values before this update, for a rollback), the chunk is updated by the same chunk body as
// the unguarded entry (so params and state are bit-identical to it), and its new params are checked.
// Returns whether every new param is finite (no NaN, no ±inf). Every bak_* is [n]; a state that
// the update does not use (buf with momentum 0) is neither read nor copied, and its bak may be null.
// Outputs first, as everywhere: the updated arrays, then their backups, then grad.
bool sgd_step_guarded(float* param, float* buf, float* bak_param, float* bak_buf, const float* grad, int64_t n,
                      double lr, double momentum, double dampening, double weight_decay, bool nesterov,
                      bool first_step);
bool adam_step_guarded(float* param, float* m, float* v, float* bak_param, float* bak_m, float* bak_v,
                       const float* grad, int64_t n, double lr, double beta1, double beta2, double eps,
                       double weight_decay, bool decoupled, int64_t step);
bool rmsprop_step_guarded(float* param, float* sq, float* buf, float* bak_param, float* bak_sq, float* bak_buf,
                          const float* grad, int64_t n, double lr, double alpha, double eps, double weight_decay,
                          double momentum);

// Floats a chunk of the guarded updates, from the L2 size read at run time: a chunk's live arrays
// (param, up to two states, grad) take a quarter of L2, a multiple of 16 between 2048 and 32768
// (16384 for 1 MiB). L2 rather than L1: the chunk only has to survive from its copy to its check,
// and longer chunks restart the hardware prefetchers' streams (three to five, one per array) less
// often: measured in fit's step on a busy 2-core Zen-class machine, 2048-float chunks cut the
// guard's cost by about a fifth, 8192 to 32768 by about a third. The backups bypass the cache on
// the AVX2 path, so they take no room in it.
int64_t optim_guard_chunk();

// Whether none of x[0..n) is NaN or ±inf (the guarded updates' check; *_avx2 below).
bool all_finite_ref(const float* x, int64_t n);

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
bool all_finite_avx2(const float* x, int64_t n);
// The guarded updates' backup copy: a backup is written once and read only by a rollback, so its
// lines are stored past the cache (no read of each line before the write, no eviction of the
// chunk being updated).
void copy_stream_avx2(float* dst, const float* src, int64_t n);
#endif

}  // namespace mb
