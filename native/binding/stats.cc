// stats.cc — N-API glue for the statistics kernels: tensorStats, paramStats (see
// lib/backend/types.ts for the positional arguments), and statsReference with the scalar
// references behind the same checks, for tests. Sizes are read first, then every buffer is checked.
#include "../kernels/stats.h"

#include <string>

#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

double* f64(const Napi::CallbackInfo& info, size_t i, const char* name, size_t min_len, bool optional) {
  Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    type_error(info.Env(), optional ? "Float64Array or null" : "Float64Array", name, v);
  auto a = v.As<Napi::Float64Array>();
  if (is_detached(a)) range_error(info.Env(), "an attached Float64Array", name, "a detached buffer");
  if (a.ElementLength() < min_len)
    range_error(info.Env(), "Float64Array of length >= " + std::to_string(min_len), name, describe(v));
  return a.Data();
}

// tensorStats(out, hist, unitNonzero, x, outer, units, inner, lo, hi, bins)
template <bool Ref>
Napi::Value TensorStats(const Napi::CallbackInfo& info) {
  check_arity(info, 10, "tensorStats");
  const int64_t outer = size_arg(info, 4, "outer", 0);
  const int64_t units = size_arg(info, 5, "units", 1);
  const int64_t inner = size_arg(info, 6, "inner", 1);
  const double lo = num_arg(info, 7, "lo");
  const double hi = num_arg(info, 8, "hi");
  const int64_t bins = size_arg(info, 9, "bins", 0);
  if (bins > 0 && !(hi > lo)) range_error(info.Env(), "hi > lo = " + describe(info[7]), "hi", describe(info[8]));
  const size_t n = mul(info.Env(), "outer x units x inner", {outer, units, inner});
  double* out = f64(info, 0, "out", kStatSlots, false);
  double* hist = f64(info, 1, "hist", (size_t)bins, true);
  if (!hist && bins > 0) type_error(info.Env(), "Float64Array when bins > 0", "hist", info[1]);
  int32_t* nonzero = nullptr;
  if (!info[2].IsNull() && !info[2].IsUndefined()) nonzero = i32(info, 2, "unitNonzero", (size_t)units);
  const float* x = f32(info, 3, "x", n);
  (Ref ? tensor_stats_ref : tensor_stats)(out, hist, nonzero, x, outer, units, inner, lo, hi, bins);
  return info.Env().Undefined();
}

// paramStats(out, w, prev, g, n)
template <bool Ref>
Napi::Value ParamStats(const Napi::CallbackInfo& info) {
  check_arity(info, 5, "paramStats");
  const int64_t n = size_arg(info, 4, "n", 0);
  double* out = f64(info, 0, "out", 3, false);
  const float* w = f32(info, 1, "w", (size_t)n);
  const float* prev = f32_opt(info, 2, "prev", (size_t)n);
  const float* g = f32_opt(info, 3, "g", (size_t)n);
  (Ref ? param_stats_ref : param_stats)(out, w, prev, g, n);
  return info.Env().Undefined();
}

}  // namespace

void InitStats(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"tensorStats", TensorStats<false>}, {"paramStats", ParamStats<false>}});
  // The scalar references behind the same checks, for tests: statsReference.tensorStats(...), etc.
  Napi::Object ref = Napi::Object::New(env);
  set_exports(env, ref, {{"tensorStats", TensorStats<true>}, {"paramStats", ParamStats<true>}});
  exports.Set("statsReference", ref);
}

}  // namespace mb::glue
