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

// outH and outW must be PyTorch's (non-empty) output size for the geometry that geom() describes.
// geom builds its text only when a check fails: the strings cost about a microsecond a call, a
// visible share of a batch-1 forward.
template <class Geom>
inline void check_out_size(Napi::Env env, const char* kind, int64_t eh, int64_t ew, int64_t oh, int64_t ow,
                           Geom&& geom) {
  if (eh <= 0 || ew <= 0) range_error(env, std::string("a non-empty ") + kind + " output", "p", geom());
  if (oh != eh) range_error(env, "outH " + std::to_string(eh) + " (" + geom() + ")", "outH", std::to_string(oh));
  if (ow != ew) range_error(env, "outW " + std::to_string(ew) + " (" + geom() + ")", "outW", std::to_string(ow));
}

// Integer fields of a params object, each read with prop_size into its destination, in order.
struct Field {
  const char* key;
  int64_t min;
  int64_t* out;
};

inline void read_fields(Napi::Env env, const Napi::Object& o, std::initializer_list<Field> fields) {
  for (const Field& f : fields) *f.out = prop_size(env, o, f.key, f.min);
}

}  // namespace mb::glue
