// geometry.h — what the convolution and pooling glue share: the params object, the output-size
// formula (the native home of PyTorch's formula) and shape strings for messages.
#pragma once

#include <string>

#include "common.h"

namespace mb::glue {

inline std::string pair(int64_t a, int64_t b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + "]"; }
inline std::string quad(int64_t a, int64_t b, int64_t c, int64_t d) {
  return "[" + std::to_string(a) + ", " + std::to_string(b) + ", " + std::to_string(c) + ", " + std::to_string(d) +
         "]";
}

inline Napi::Object params_object(const Napi::CallbackInfo& info, size_t i, const char* kind) {
  Napi::Value v = info[i];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction())
    type_error(info.Env(), std::string(kind) + " object", "p", v);
  return v.As<Napi::Object>();
}

// floor((size + 2 pad - dil (k - 1) - 1) / stride) + 1, or <= 0 for an empty output.
inline int64_t out_size(int64_t size, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  const int64_t num = size + 2 * pad - dil * (k - 1) - 1;
  return num < 0 ? 0 : num / stride + 1;
}

}  // namespace mb::glue
