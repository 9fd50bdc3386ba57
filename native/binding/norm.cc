// norm.cc — N-API glue for the normalization kernels (BatchNorm, GroupNorm / LayerNorm / InstanceNorm).
// Sizes are read first (buffer lengths are computed from them), then every buffer is checked.
#include "../kernels/norm.h"

#include <string>

#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

float eps_arg(const Napi::CallbackInfo& info, size_t i) {
  const double eps = num_arg(info, i, "eps");
  if (!(eps > 0)) range_error(info.Env(), "number > 0", "eps", describe(info[i]));
  return (float)eps;
}

// n, c, inner at positions i, i+1, i+2; returns n·c·inner.
size_t nci(const Napi::CallbackInfo& info, size_t i, int64_t& n, int64_t& c, int64_t& inner) {
  n = size_arg(info, i, "n");
  c = size_arg(info, i + 1, "c");
  inner = size_arg(info, i + 2, "inner");
  return mul(info.Env(), "n x c x inner", {n, c, inner});
}

// Training-mode BatchNorm needs more than one value per channel: n·inner >= 2.
void check_per_channel(const Napi::CallbackInfo& info, int64_t n, int64_t inner) {
  const size_t per = mul(info.Env(), "n x inner", {n, inner});
  if (per < 2)
    range_error(info.Env(), "more than 1 value per channel in training mode", "n·inner", std::to_string(per));
}

int64_t groups_arg(const Napi::CallbackInfo& info, size_t i, int64_t c) {
  const int64_t g = size_arg(info, i, "groups");
  if (c % g != 0)
    range_error(info.Env(), "a divisor of c = " + std::to_string(c), "groups", describe(info[i]));
  return g;
}

// batchNormForward(y, mean, variance, rstd, x, gamma, beta, n, c, inner, eps)
template <bool Ref>
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  int64_t n, c, inner;
  const size_t total = nci(info, 7, n, c, inner);
  const float eps = eps_arg(info, 10);
  check_per_channel(info, n, inner);
  float* y = f32(info, 0, "y", total);
  float* mean = f32(info, 1, "mean", c);
  float* var = f32(info, 2, "variance", c);
  float* rstd = f32(info, 3, "rstd", c);
  const float* x = f32(info, 4, "x", total);
  const float* gamma = f32_opt(info, 5, "gamma", c);
  const float* beta = f32_opt(info, 6, "beta", c);
  (Ref ? batch_norm_forward_ref : batch_norm_forward)(y, mean, var, rstd, x, gamma, beta, n, c, inner, eps);
  return info.Env().Undefined();
}

// batchNormInference(y, x, runningMean, runningVar, gamma, beta, n, c, inner, eps)
Napi::Value BatchNormInference(const Napi::CallbackInfo& info) {
  int64_t n, c, inner;
  const size_t total = nci(info, 6, n, c, inner);
  const float eps = eps_arg(info, 9);
  float* y = f32(info, 0, "y", total);
  const float* x = f32(info, 1, "x", total);
  const float* rm = f32(info, 2, "runningMean", c);
  const float* rv = f32(info, 3, "runningVar", c);
  const float* gamma = f32_opt(info, 4, "gamma", c);
  const float* beta = f32_opt(info, 5, "beta", c);
  batch_norm_inference(y, x, rm, rv, gamma, beta, n, c, inner, eps);
  return info.Env().Undefined();
}

// batchNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, inner)
template <bool Ref>
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  int64_t n, c, inner;
  const size_t total = nci(info, 8, n, c, inner);
  check_per_channel(info, n, inner);
  float* dx = f32(info, 0, "dx", total);
  float* dgamma = f32_opt(info, 1, "dgamma", c);
  float* dbeta = f32_opt(info, 2, "dbeta", c);
  const float* dy = f32(info, 3, "dy", total);
  const float* x = f32(info, 4, "x", total);
  const float* mean = f32(info, 5, "mean", c);
  const float* rstd = f32(info, 6, "rstd", c);
  const float* gamma = f32_opt(info, 7, "gamma", c);
  (Ref ? batch_norm_backward_ref : batch_norm_backward)(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, inner);
  return info.Env().Undefined();
}

// groupNormForward(y, mean, rstd, x, gamma, beta, n, c, inner, groups, eps)
template <bool Ref>
Napi::Value GroupNormForward(const Napi::CallbackInfo& info) {
  int64_t n, c, inner;
  const size_t total = nci(info, 6, n, c, inner);
  const int64_t groups = groups_arg(info, 9, c);
  const float eps = eps_arg(info, 10);
  float* y = f32(info, 0, "y", total);
  float* mean = f32(info, 1, "mean", mul(info.Env(), "n x groups", {n, groups}));
  float* rstd = f32(info, 2, "rstd", mul(info.Env(), "n x groups", {n, groups}));
  const float* x = f32(info, 3, "x", total);
  const float* gamma = f32_opt(info, 4, "gamma", c);
  const float* beta = f32_opt(info, 5, "beta", c);
  (Ref ? group_norm_forward_ref : group_norm_forward)(y, mean, rstd, x, gamma, beta, n, c, inner, groups, eps);
  return info.Env().Undefined();
}

// groupNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, inner, groups)
template <bool Ref>
Napi::Value GroupNormBackward(const Napi::CallbackInfo& info) {
  int64_t n, c, inner;
  const size_t total = nci(info, 8, n, c, inner);
  const int64_t groups = groups_arg(info, 11, c);
  float* dx = f32(info, 0, "dx", total);
  float* dgamma = f32_opt(info, 1, "dgamma", c);
  float* dbeta = f32_opt(info, 2, "dbeta", c);
  const float* dy = f32(info, 3, "dy", total);
  const float* x = f32(info, 4, "x", total);
  const float* mean = f32(info, 5, "mean", mul(info.Env(), "n x groups", {n, groups}));
  const float* rstd = f32(info, 6, "rstd", mul(info.Env(), "n x groups", {n, groups}));
  const float* gamma = f32_opt(info, 7, "gamma", c);
  (Ref ? group_norm_backward_ref : group_norm_backward)(dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, inner, groups);
  return info.Env().Undefined();
}

}  // namespace

void InitNorm(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"batchNormForward", BatchNormForward<false>},
      {"batchNormInference", BatchNormInference}, {"batchNormBackward", BatchNormBackward<false>},
      {"groupNormForward", GroupNormForward<false>}, {"groupNormBackward", GroupNormBackward<false>}});
  // The scalar references behind the same checks, for tests: normReference.batchNormForward(...), etc.
  Napi::Object ref = Napi::Object::New(env);
  set_exports(env, ref, {{"batchNormForward", BatchNormForward<true>},
      {"batchNormBackward", BatchNormBackward<true>}, {"groupNormForward", GroupNormForward<true>},
      {"groupNormBackward", GroupNormBackward<true>}});
  exports.Set("normReference", ref);
}

}  // namespace mb::glue
