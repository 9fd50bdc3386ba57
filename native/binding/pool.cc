// pool.cc — N-API glue for max and average pooling.
//
// Pool2dParams arrive as plain objects; every field is read with prop_size, outH/outW must equal
// PyTorch's formula, and every buffer length is checked against sizes computed from them.
#include <string>

#include "../kernels/pool.h"
#include "common.h"
#include "families.h"
#include "geometry.h"

namespace mb::glue {

namespace {

// An optional boolean field (absent or undefined: the default).
bool opt_bool(Napi::Env env, Napi::Object o, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return dflt;
  if (!v.IsBoolean()) type_error(env, "boolean", key, v);
  return v.As<Napi::Boolean>().Value();
}

// PyTorch's pooling output size: floor or ceil of (size + 2 pad - k) / stride, plus one; in ceil
// mode the last window must start inside the input or its left padding.
int64_t pool_out_size(int64_t size, int64_t k, int64_t s, int64_t pad, bool ceil) {
  const int64_t num = size + 2 * pad - k;
  if (num < 0) return 0;
  int64_t o = (num + (ceil ? s - 1 : 0)) / s + 1;
  if (ceil && (o - 1) * s >= size + pad) o--;
  return o;
}

Pool2dShape pool_params(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  Napi::Object o = params_object(info, i, "Pool2dParams");
  Pool2dShape p;
  read_fields(env, o, {{"n", 1, &p.n}, {"c", 1, &p.c}, {"h", 1, &p.h}, {"w", 1, &p.w}, {"kH", 1, &p.kh},
                       {"kW", 1, &p.kw}, {"strideH", 1, &p.sh}, {"strideW", 1, &p.sw}, {"padH", 0, &p.ph},
                       {"padW", 0, &p.pw}, {"outH", 0, &p.oh}, {"outW", 0, &p.ow}});
  if (p.ph > p.kh / 2)
    range_error(env, "padH <= kH / 2 (kH " + std::to_string(p.kh) + ")", "padH", std::to_string(p.ph));
  if (p.pw > p.kw / 2)
    range_error(env, "padW <= kW / 2 (kW " + std::to_string(p.kw) + ")", "padW", std::to_string(p.pw));
  const auto geom = [&p] {
    return "input " + quad(p.n, p.c, p.h, p.w) + " with window " + pair(p.kh, p.kw) + ", stride " + pair(p.sh, p.sw) +
           ", padding " + pair(p.ph, p.pw);
  };
  p.count_include_pad = opt_bool(env, o, "countIncludePad", true);
  const bool ceil = opt_bool(env, o, "ceilMode", false);
  const int64_t eh = pool_out_size(p.h, p.kh, p.sh, p.ph, ceil), ew = pool_out_size(p.w, p.kw, p.sw, p.pw, ceil);
  check_out_size(env, "pooling", eh, ew, p.oh, p.ow, geom);
  if (mul(env, "h x w", {p.h, p.w}) > 2147483647u)
    range_error(env, "an input plane of fewer than 2^31 elements (argmax is Int32)", "p", geom());
  mul(env, "x", {p.n, p.c, p.h, p.w});
  mul(env, "y", {p.n, p.c, p.oh, p.ow});
  return p;
}

Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  Pool2dShape p = pool_params(info, 3);
  const size_t out = mul(info.Env(), "y", {p.n, p.c, p.oh, p.ow});
  float* y = f32(info, 0, "y", out);
  int32_t* argmax = i32(info, 1, "argmax", out);
  const float* x = f32(info, 2, "x", mul(info.Env(), "x", {p.n, p.c, p.h, p.w}));
  max_pool2d_forward(y, argmax, x, p);
  return info.Env().Undefined();
}

Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  Pool2dShape p = pool_params(info, 3);
  const size_t out = mul(info.Env(), "y", {p.n, p.c, p.oh, p.ow});
  float* dx = f32(info, 0, "dx", mul(info.Env(), "x", {p.n, p.c, p.h, p.w}));
  const int32_t* argmax = i32(info, 1, "argmax", out);
  const float* dy = f32(info, 2, "dy", out);
  if (!max_pool2d_backward(dx, argmax, dy, p))
    range_error(info.Env(), "argmax entries in [0, " + std::to_string(mul(info.Env(), "h x w", {p.h, p.w})) + ")", "argmax",
                "an entry outside that range");
  return info.Env().Undefined();
}

template <bool Ref>
Napi::Value AvgPool2dForward(const Napi::CallbackInfo& info) {
  Pool2dShape p = pool_params(info, 2);
  float* y = f32(info, 0, "y", mul(info.Env(), "y", {p.n, p.c, p.oh, p.ow}));
  const float* x = f32(info, 1, "x", mul(info.Env(), "x", {p.n, p.c, p.h, p.w}));
  (Ref ? avg_pool2d_forward_ref : avg_pool2d_forward)(y, x, p);
  return info.Env().Undefined();
}

template <bool Ref>
Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  Pool2dShape p = pool_params(info, 2);
  float* dx = f32(info, 0, "dx", mul(info.Env(), "x", {p.n, p.c, p.h, p.w}));
  const float* dy = f32(info, 1, "dy", mul(info.Env(), "y", {p.n, p.c, p.oh, p.ow}));
  (Ref ? avg_pool2d_backward_ref : avg_pool2d_backward)(dx, dy, p);
  return info.Env().Undefined();
}

}  // namespace

void InitPool(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"maxPool2dForward", MaxPool2dForward}, {"maxPool2dBackward", MaxPool2dBackward},
      {"avgPool2dForward", AvgPool2dForward<false>}, {"avgPool2dBackward", AvgPool2dBackward<false>}});
  // The scalar references behind the same checks, for tests: poolReference.avgPool2dForward(...), etc.
  Napi::Object ref = Napi::Object::New(env);
  set_exports(env, ref, {{"avgPool2dForward", AvgPool2dForward<true>}, {"avgPool2dBackward", AvgPool2dBackward<true>}});
  exports.Set("poolReference", ref);
}

}  // namespace mb::glue
