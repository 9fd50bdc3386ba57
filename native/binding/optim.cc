// optim.cc — N-API glue for the optimizer updates: sgdStep, adamStep, rmspropStep and their guarded
// forms sgdStepGuarded, adamStepGuarded, rmspropStepGuarded, which also fill backups and return
// whether the new parameters are finite (see lib/backend/types.ts for the positional arguments).
// Every argument is checked here, before anything is written; the kernels assume valid input. A
// momentum buffer (and its backup) is read only when momentum != 0, so with momentum 0 it may be
// any Float32Array (an empty one, say).
#include "../kernels/optim.h"
#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

double nonneg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const double d = num_arg(info, i, name);
  if (d < 0) range_error(info.Env(), "finite number >= 0", name, describe(info[i]));
  return d;
}

double unit(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const double d = num_arg(info, i, name);
  if (!(d >= 0 && d < 1)) range_error(info.Env(), "number in [0, 1)", name, describe(info[i]));
  return d;
}

double positive(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const double d = num_arg(info, i, name);
  if (!(d > 0)) range_error(info.Env(), "finite number > 0", name, describe(info[i]));
  return d;
}

// sgdStep(param, grad, momentumBuf, n, lr, momentum, dampening, weightDecay, nesterov, firstStep)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  check_arity(info, 10, "sgdStep");
  const int64_t n = size_arg(info, 3, "n", 0);
  float* param = f32(info, 0, "param", (size_t)n);
  const float* grad = f32(info, 1, "grad", (size_t)n);
  const double lr = nonneg(info, 4, "lr");
  const double momentum = nonneg(info, 5, "momentum");
  const double dampening = num_arg(info, 6, "dampening");
  const double weight_decay = nonneg(info, 7, "weightDecay");
  const bool nesterov = bool_arg(info, 8, "nesterov");
  const bool first_step = bool_arg(info, 9, "firstStep");
  float* buf = f32(info, 2, "momentumBuf", momentum != 0 ? (size_t)n : 0);
  if (nesterov && (momentum <= 0 || dampening != 0))
    range_error(info.Env(), "momentum > 0 and dampening 0", "nesterov",
                "momentum " + describe(info[5]) + " and dampening " + describe(info[6]));
  sgd_step(param, buf, grad, n, lr, momentum, dampening, weight_decay, nesterov, first_step);
  return info.Env().Undefined();
}

// adamStep(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, decoupled, step)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  check_arity(info, 12, "adamStep");
  const int64_t n = size_arg(info, 4, "n", 0);
  float* param = f32(info, 0, "param", (size_t)n);
  const float* grad = f32(info, 1, "grad", (size_t)n);
  float* m = f32(info, 2, "m", (size_t)n);
  float* v = f32(info, 3, "v", (size_t)n);
  const double lr = nonneg(info, 5, "lr");
  const double beta1 = unit(info, 6, "beta1");
  const double beta2 = unit(info, 7, "beta2");
  const double eps = positive(info, 8, "eps");
  const double weight_decay = nonneg(info, 9, "weightDecay");
  const bool decoupled = bool_arg(info, 10, "decoupled");
  const int64_t step = size_arg(info, 11, "step", 1);
  adam_step(param, m, v, grad, n, lr, beta1, beta2, eps, weight_decay, decoupled, step);
  return info.Env().Undefined();
}

// rmspropStep(param, grad, sq, momentumBuf, n, lr, alpha, eps, weightDecay, momentum)
Napi::Value RmspropStep(const Napi::CallbackInfo& info) {
  check_arity(info, 10, "rmspropStep");
  const int64_t n = size_arg(info, 4, "n", 0);
  float* param = f32(info, 0, "param", (size_t)n);
  const float* grad = f32(info, 1, "grad", (size_t)n);
  float* sq = f32(info, 2, "sq", (size_t)n);
  const double lr = nonneg(info, 5, "lr");
  const double alpha = num_arg(info, 6, "alpha");
  if (!(alpha >= 0 && alpha <= 1)) range_error(info.Env(), "number between 0 and 1", "alpha", describe(info[6]));
  const double eps = positive(info, 7, "eps");
  const double weight_decay = nonneg(info, 8, "weightDecay");
  const double momentum = nonneg(info, 9, "momentum");
  float* buf = f32(info, 3, "momentumBuf", momentum > 0 ? (size_t)n : 0);
  rmsprop_step(param, sq, buf, grad, n, lr, alpha, eps, weight_decay, momentum);
  return info.Env().Undefined();
}

// sgdStepGuarded(param, grad, momentumBuf, paramBackup, momentumBufBackup, n, lr, momentum, dampening,
// weightDecay, nesterov, firstStep) -> whether every new param is finite
Napi::Value SgdStepGuarded(const Napi::CallbackInfo& info) {
  check_arity(info, 12, "sgdStepGuarded");
  const int64_t n = size_arg(info, 5, "n", 0);
  float* param = f32(info, 0, "param", (size_t)n);
  const float* grad = f32(info, 1, "grad", (size_t)n);
  float* bak_param = f32(info, 3, "paramBackup", (size_t)n);
  const double lr = nonneg(info, 6, "lr");
  const double momentum = nonneg(info, 7, "momentum");
  const double dampening = num_arg(info, 8, "dampening");
  const double weight_decay = nonneg(info, 9, "weightDecay");
  const bool nesterov = bool_arg(info, 10, "nesterov");
  const bool first_step = bool_arg(info, 11, "firstStep");
  const size_t nb = momentum != 0 ? (size_t)n : 0;
  float* buf = f32(info, 2, "momentumBuf", nb);
  float* bak_buf = f32(info, 4, "momentumBufBackup", nb);
  if (nesterov && (momentum <= 0 || dampening != 0))
    range_error(info.Env(), "momentum > 0 and dampening 0", "nesterov",
                "momentum " + describe(info[7]) + " and dampening " + describe(info[8]));
  const bool ok = sgd_step_guarded(param, buf, bak_param, momentum != 0 ? bak_buf : nullptr, grad, n, lr, momentum,
                                   dampening, weight_decay, nesterov, first_step);
  return Napi::Boolean::New(info.Env(), ok);
}

// adamStepGuarded(param, grad, m, v, paramBackup, mBackup, vBackup, n, lr, beta1, beta2, eps, weightDecay,
// decoupled, step) -> whether every new param is finite
Napi::Value AdamStepGuarded(const Napi::CallbackInfo& info) {
  check_arity(info, 15, "adamStepGuarded");
  const int64_t n = size_arg(info, 7, "n", 0);
  float* param = f32(info, 0, "param", (size_t)n);
  const float* grad = f32(info, 1, "grad", (size_t)n);
  float* m = f32(info, 2, "m", (size_t)n);
  float* v = f32(info, 3, "v", (size_t)n);
  float* bak_param = f32(info, 4, "paramBackup", (size_t)n);
  float* bak_m = f32(info, 5, "mBackup", (size_t)n);
  float* bak_v = f32(info, 6, "vBackup", (size_t)n);
  const double lr = nonneg(info, 8, "lr");
  const double beta1 = unit(info, 9, "beta1");
  const double beta2 = unit(info, 10, "beta2");
  const double eps = positive(info, 11, "eps");
  const double weight_decay = nonneg(info, 12, "weightDecay");
  const bool decoupled = bool_arg(info, 13, "decoupled");
  const int64_t step = size_arg(info, 14, "step", 1);
  const bool ok = adam_step_guarded(param, m, v, bak_param, bak_m, bak_v, grad, n, lr, beta1, beta2, eps, weight_decay,
                                    decoupled, step);
  return Napi::Boolean::New(info.Env(), ok);
}

// rmspropStepGuarded(param, grad, sq, momentumBuf, paramBackup, sqBackup, momentumBufBackup, n, lr, alpha, eps,
// weightDecay, momentum) -> whether every new param is finite
Napi::Value RmspropStepGuarded(const Napi::CallbackInfo& info) {
  check_arity(info, 13, "rmspropStepGuarded");
  const int64_t n = size_arg(info, 7, "n", 0);
  float* param = f32(info, 0, "param", (size_t)n);
  const float* grad = f32(info, 1, "grad", (size_t)n);
  float* sq = f32(info, 2, "sq", (size_t)n);
  float* bak_param = f32(info, 4, "paramBackup", (size_t)n);
  float* bak_sq = f32(info, 5, "sqBackup", (size_t)n);
  const double lr = nonneg(info, 8, "lr");
  const double alpha = num_arg(info, 9, "alpha");
  if (!(alpha >= 0 && alpha <= 1)) range_error(info.Env(), "number between 0 and 1", "alpha", describe(info[9]));
  const double eps = positive(info, 10, "eps");
  const double weight_decay = nonneg(info, 11, "weightDecay");
  const double momentum = nonneg(info, 12, "momentum");
  const size_t nb = momentum > 0 ? (size_t)n : 0;
  float* buf = f32(info, 3, "momentumBuf", nb);
  float* bak_buf = f32(info, 6, "momentumBufBackup", nb);
  const bool ok = rmsprop_step_guarded(param, sq, buf, bak_param, bak_sq, momentum > 0 ? bak_buf : nullptr, grad, n,
                                       lr, alpha, eps, weight_decay, momentum);
  return Napi::Boolean::New(info.Env(), ok);
}

}  // namespace

void InitOptim(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports,
              {{"sgdStep", SgdStep},
               {"adamStep", AdamStep},
               {"rmspropStep", RmspropStep},
               {"sgdStepGuarded", SgdStepGuarded},
               {"adamStepGuarded", AdamStepGuarded},
               {"rmspropStepGuarded", RmspropStepGuarded}});
}

}  // namespace mb::glue
