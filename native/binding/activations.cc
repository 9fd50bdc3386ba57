// activations.cc — N-API glue for elementwise activations, maxout, bias add and the copy baseline.
#include <cstring>
#include <string>

#include "../kernels/activations.h"
#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

const char* const kKinds[] = {"relu", "leaky_relu", "elu", "sigmoid", "tanh"};
const char* const kKindList = "one of 'relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh'";

Act kind_arg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    for (int k = 0; k < 5; k++)
      if (s == kKinds[k]) return static_cast<Act>(k);
    const std::string shown = s.size() > 40 ? s.substr(0, 40) + "..." : s;
    throw Napi::TypeError::New(info.Env(), std::string("Expected ") + kKindList + " for kind but received '" +
                                               shown + "'");
  }
  type_error(info.Env(), kKindList, "kind", v);
}

// activation(kind, y, x, n, alpha)
Napi::Value Activation(const Napi::CallbackInfo& info) {
  const Act kind = kind_arg(info, 0);
  const int64_t n = size_arg(info, 3, "n", 0);
  float* y = f32(info, 1, "y", (size_t)n);
  const float* x = f32(info, 2, "x", (size_t)n);
  const double alpha = num_arg(info, 4, "alpha");
  activation_forward(kind, y, x, n, (float)alpha);
  return info.Env().Undefined();
}

// activationBackward(kind, dx, x, y, dy, n, alpha)
Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  const Act kind = kind_arg(info, 0);
  const int64_t n = size_arg(info, 5, "n", 0);
  float* dx = f32(info, 1, "dx", (size_t)n);
  const float* x = f32(info, 2, "x", (size_t)n);
  const float* y = f32(info, 3, "y", (size_t)n);
  const float* dy = f32(info, 4, "dy", (size_t)n);
  const double alpha = num_arg(info, 6, "alpha");
  activation_backward(kind, dx, x, y, dy, n, (float)alpha);
  return info.Env().Undefined();
}

// maxoutForward(y, argmax, z, rows, units, pieces)
Napi::Value MaxoutForward(const Napi::CallbackInfo& info) {
  const int64_t rows = size_arg(info, 3, "rows", 0), units = size_arg(info, 4, "units", 1),
                pieces = size_arg(info, 5, "pieces", 1);
  const size_t m = mul(info.Env(), "rows x units", {rows, units}), mz = mul(info.Env(), "z", {rows, units, pieces});
  float* y = f32(info, 0, "y", m);
  int32_t* argmax = i32(info, 1, "argmax", m);
  const float* z = f32(info, 2, "z", mz);
  maxout_forward(y, argmax, z, rows, units, pieces);
  return info.Env().Undefined();
}

// maxoutBackward(dz, argmax, dy, rows, units, pieces)
Napi::Value MaxoutBackward(const Napi::CallbackInfo& info) {
  const int64_t rows = size_arg(info, 3, "rows", 0), units = size_arg(info, 4, "units", 1),
                pieces = size_arg(info, 5, "pieces", 1);
  const size_t m = mul(info.Env(), "rows x units", {rows, units}), mz = mul(info.Env(), "dz", {rows, units, pieces});
  float* dz = f32(info, 0, "dz", mz);
  const int32_t* argmax = i32(info, 1, "argmax", m);
  const float* dy = f32(info, 2, "dy", m);
  maxout_backward(dz, argmax, dy, rows, units, pieces);  // out-of-range argmax entries are skipped
  return info.Env().Undefined();
}

// biasAdd(y, bias, outer, channels, inner)
Napi::Value BiasAdd(const Napi::CallbackInfo& info) {
  const int64_t outer = size_arg(info, 2, "outer", 0), channels = size_arg(info, 3, "channels", 1),
                inner = size_arg(info, 4, "inner", 1);
  float* y = f32(info, 0, "y", mul(info.Env(), "y", {outer, channels, inner}));
  const float* bias = f32(info, 1, "bias", (size_t)channels);
  bias_add(y, bias, outer, channels, inner);
  return info.Env().Undefined();
}

// biasBackward(db, dy, outer, channels, inner)
Napi::Value BiasBackward(const Napi::CallbackInfo& info) {
  const int64_t outer = size_arg(info, 2, "outer", 0), channels = size_arg(info, 3, "channels", 1),
                inner = size_arg(info, 4, "inner", 1);
  float* db = f32(info, 0, "db", (size_t)channels);
  const float* dy = f32(info, 1, "dy", mul(info.Env(), "dy", {outer, channels, inner}));
  bias_backward(db, dy, outer, channels, inner);
  return info.Env().Undefined();
}

// copyBuffer(dst, src, n): memcpy over the threads, the bandwidth baseline of the benchmarks.
Napi::Value CopyBuffer(const Napi::CallbackInfo& info) {
  const int64_t n = size_arg(info, 2, "n", 0);
  float* dst = f32(info, 0, "dst", (size_t)n);
  const float* src = f32(info, 1, "src", (size_t)n);
  if (dst != src) copy_buffer(dst, src, n);
  return info.Env().Undefined();
}

}  // namespace

void InitActivations(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"activation", Activation}, {"activationBackward", ActivationBackward},
      {"maxoutForward", MaxoutForward}, {"maxoutBackward", MaxoutBackward}, {"biasAdd", BiasAdd},
      {"biasBackward", BiasBackward}, {"copyBuffer", CopyBuffer}});
}

}  // namespace mb::glue
