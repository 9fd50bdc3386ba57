// loss.cc — N-API glue for softmax cross-entropy. Labels are Int32Array or Uint8Array; every label
// is checked against [0, k) here, so the kernel can index with it.
#include <string>

#include "../kernels/loss.h"
#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

struct Labels {
  const int32_t* i32 = nullptr;
  const uint8_t* u8 = nullptr;
};

Labels labels_arg(const Napi::CallbackInfo& info, size_t i, int64_t n, int64_t k) {
  Napi::Value v = info[i];
  Labels out;
  if (!v.IsTypedArray()) type_error(info.Env(), "Int32Array or Uint8Array", "labels", v);
  auto ta = v.As<Napi::TypedArray>();
  const napi_typedarray_type t = ta.TypedArrayType();
  if (t != napi_int32_array && t != napi_uint8_array) type_error(info.Env(), "Int32Array or Uint8Array", "labels", v);
  if (is_detached(ta)) range_error(info.Env(), "an attached Int32Array or Uint8Array", "labels", "a detached buffer");
  if (ta.ElementLength() < (size_t)n)
    range_error(info.Env(), "Int32Array or Uint8Array of length >= " + std::to_string((long long)n), "labels", describe(v));
  const auto what = [k] { return "integer in [0, " + std::to_string((long long)k) + ")"; };  // built on failure only
  if (t == napi_int32_array) {
    out.i32 = v.As<Napi::Int32Array>().Data();
    for (int64_t r = 0; r < n; r++)
      if (out.i32[r] < 0 || out.i32[r] >= k)
        throw Napi::RangeError::New(info.Env(), "Expected " + what() + " for labels[" + std::to_string((long long)r) +
                                                    "] but received " + std::to_string(out.i32[r]));
  } else {
    out.u8 = v.As<Napi::Uint8Array>().Data();
    for (int64_t r = 0; r < n; r++)
      if (out.u8[r] >= k)
        throw Napi::RangeError::New(info.Env(), "Expected " + what() + " for labels[" + std::to_string((long long)r) +
                                                    "] but received " + std::to_string(out.u8[r]));
  }
  return out;
}

// softmaxCrossEntropy(probs, logits, labels, n, k) -> mean loss
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  const int64_t n = size_arg(info, 3, "n", 1), k = size_arg(info, 4, "k", 1);
  const size_t nk = mul(info.Env(), "n x k", {n, k});
  float* probs = f32(info, 0, "probs", nk);
  const float* logits = f32(info, 1, "logits", nk);
  const Labels l = labels_arg(info, 2, n, k);
  const double loss = l.i32 ? softmax_xent_forward(probs, logits, l.i32, n, k)
                            : softmax_xent_forward(probs, logits, l.u8, n, k);
  return Napi::Number::New(info.Env(), loss);
}

// softmaxCrossEntropyBackward(dlogits, probs, labels, n, k, scale)
Napi::Value SoftmaxCrossEntropyBackward(const Napi::CallbackInfo& info) {
  const int64_t n = size_arg(info, 3, "n", 1), k = size_arg(info, 4, "k", 1);
  const size_t nk = mul(info.Env(), "n x k", {n, k});
  float* dlogits = f32(info, 0, "dlogits", nk);
  const float* probs = f32(info, 1, "probs", nk);
  const Labels l = labels_arg(info, 2, n, k);
  const float scale = (float)num_arg(info, 5, "scale");
  if (l.i32) softmax_xent_backward(dlogits, probs, l.i32, n, k, scale);
  else softmax_xent_backward(dlogits, probs, l.u8, n, k, scale);
  return info.Env().Undefined();
}

}  // namespace

void InitLoss(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"softmaxCrossEntropy", SoftmaxCrossEntropy},
      {"softmaxCrossEntropyBackward", SoftmaxCrossEntropyBackward}});
}

}  // namespace mb::glue
