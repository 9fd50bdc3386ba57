// common.h — argument checking shared by the N-API glue.
//
// The TypeScript layer validates every public entry; the glue re-checks kinds and sizes cheaply so
// that no call from JavaScript, however wrong, can crash the process. Errors use the project's one
// message form: "Expected <what> for <name> but received <value>".
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace mb::glue {

inline std::string describe(const Napi::Value& v) {
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    const char* kind = "TypedArray";
    switch (ta.TypedArrayType()) {
      case napi_float32_array: kind = "Float32Array"; break;
      case napi_float64_array: kind = "Float64Array"; break;
      case napi_int32_array: kind = "Int32Array"; break;
      case napi_uint8_array: kind = "Uint8Array"; break;
      case napi_int8_array: kind = "Int8Array"; break;
      case napi_uint8_clamped_array: kind = "Uint8ClampedArray"; break;
      case napi_int16_array: kind = "Int16Array"; break;
      case napi_uint16_array: kind = "Uint16Array"; break;
      case napi_uint32_array: kind = "Uint32Array"; break;
      default: break;
    }
    return std::string(kind) + " of length " + std::to_string(ta.ElementLength());
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN of type number";
    if (std::isinf(d)) return d > 0 ? "Infinity of type number" : "-Infinity of type number";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g of type number", d);
    return buf;
  }
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsBoolean()) return std::string(v.As<Napi::Boolean>().Value() ? "true" : "false") + " of type boolean";
  if (v.IsArray()) return "Array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsString()) return "string";
  return "object";
}

[[noreturn]] inline void type_error(Napi::Env env, const std::string& what, const char* name, const Napi::Value& v) {
  throw Napi::TypeError::New(env, "Expected " + what + " for " + name + " but received " + describe(v));
}
[[noreturn]] inline void range_error(Napi::Env env, const std::string& what, const char* name, const std::string& got) {
  throw Napi::RangeError::New(env, "Expected " + what + " for " + name + " but received " + got);
}

inline bool is_detached([[maybe_unused]] const Napi::TypedArray& ta) {
#if NAPI_VERSION >= 7
  return ta.ArrayBuffer().IsDetached();
#else
  return false;
#endif
}

// A Float32Array argument with at least min_len elements. Returns its data pointer.
// At least `want` arguments for `fn`, else a TypeError.
inline void check_arity(const Napi::CallbackInfo& info, size_t want, const char* fn) {
  if (info.Length() < want)
    throw Napi::TypeError::New(info.Env(), std::string("Expected ") + std::to_string(want) + " arguments for " + fn +
                                               " but received " + std::to_string(info.Length()));
}

inline float* f32(const Napi::CallbackInfo& info, size_t i, const char* name, size_t min_len) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    type_error(info.Env(), "Float32Array", name, v);
  auto a = v.As<Napi::Float32Array>();
  if (is_detached(a)) range_error(info.Env(), "an attached Float32Array", name, "a detached buffer");
  if (a.ElementLength() < min_len)
    range_error(info.Env(), "Float32Array of length >= " + std::to_string(min_len), name, describe(v));
  return a.Data();
}

// Same, but null/undefined gives nullptr.
inline float* f32_opt(const Napi::CallbackInfo& info, size_t i, const char* name, size_t min_len) {
  Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return f32(info, i, name, min_len);
}

inline int32_t* i32(const Napi::CallbackInfo& info, size_t i, const char* name, size_t min_len) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    type_error(info.Env(), "Int32Array", name, v);
  auto a = v.As<Napi::Int32Array>();
  if (is_detached(a)) range_error(info.Env(), "an attached Int32Array", name, "a detached buffer");
  if (a.ElementLength() < min_len)
    range_error(info.Env(), "Int32Array of length >= " + std::to_string(min_len), name, describe(v));
  return a.Data();
}

// A non-negative integer size (at most 2^31 - 1). min is usually 1.
inline int64_t size_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min = 1) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) type_error(info.Env(), "integer >= " + std::to_string(min), name, v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= (double)min) || d > 2147483647.0 || std::floor(d) != d)
    range_error(info.Env(), "integer >= " + std::to_string(min), name, describe(v));
  return (int64_t)d;
}

inline double num_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) type_error(info.Env(), "finite number", name, v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) range_error(info.Env(), "finite number", name, describe(v));
  return d;
}

inline bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) type_error(info.Env(), "boolean", name, v);
  return v.As<Napi::Boolean>().Value();
}

// Integer property of a params object (e.g. Conv2dParams).
inline int64_t prop_size(Napi::Env env, const Napi::Object& o, const char* key, int64_t min) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) type_error(env, "integer >= " + std::to_string(min), key, v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= (double)min) || d > 2147483647.0 || std::floor(d) != d)
    range_error(env, "integer >= " + std::to_string(min), key, describe(v));
  return (int64_t)d;
}

// The one checked multiply of the glue: the product of sizes as an element count, or a RangeError
// "Expected at most 2^32 elements for <name> but received a x b x ..." when it is larger. No typed
// array handed to the glue is longer, and with every product of sizes bounded so, the kernels'
// int64 index arithmetic cannot overflow. Exact: each step checks before it multiplies.
constexpr uint64_t kMaxElements = uint64_t(1) << 32;

inline size_t mul(Napi::Env env, const char* name, std::initializer_list<int64_t> dims) {
  uint64_t acc = 1;
  bool over = false;
  for (int64_t d : dims) {
    if (d < 0 || (d != 0 && acc > kMaxElements / (uint64_t)d)) {
      over = true;
      break;
    }
    acc *= (uint64_t)d;
  }
  if (over || acc > kMaxElements) {
    std::string got;
    for (int64_t d : dims) got += (got.empty() ? "" : " x ") + std::to_string((long long)d);
    range_error(env, "at most 2^32 elements", name, got);
  }
  return (size_t)acc;
}

// One N-API function per exported name.
struct Export {
  const char* name;
  Napi::Value (*fn)(const Napi::CallbackInfo&);
};

inline void set_exports(Napi::Env env, Napi::Object exports, std::initializer_list<Export> list) {
  for (const Export& e : list) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace mb::glue
