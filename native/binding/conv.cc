// conv.cc — N-API glue for convolution (im2col + GEMM) and pooling.
//
// Conv2dParams / Pool2dParams arrive as plain objects; every field is read with prop_size, outH/outW
// must equal PyTorch's formula, and every buffer length is checked against sizes computed from them.
#include <string>

#include "../kernels/conv.h"
#include "../kernels/cpu.h"
#include "../kernels/pool.h"
#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

std::string pair(int64_t a, int64_t b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + "]"; }
std::string quad(int64_t a, int64_t b, int64_t c, int64_t d) {
  return "[" + std::to_string(a) + ", " + std::to_string(b) + ", " + std::to_string(c) + ", " + std::to_string(d) +
         "]";
}

Napi::Object params_object(const Napi::CallbackInfo& info, size_t i, const char* kind) {
  Napi::Value v = info[i];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray() || v.IsFunction())
    type_error(info.Env(), std::string(kind) + " object", "p", v);
  return v.As<Napi::Object>();
}

// Rejects shapes whose element counts could overflow the index arithmetic (no real buffer is that big).
void check_count(Napi::Env env, double count, const char* name, const std::string& shape) {
  if (count > 4503599627370496.0)  // 2^52
    range_error(env, "a shape with fewer than 2^52 elements", name, shape);
}

// floor((size + 2 pad - dil (k - 1) - 1) / stride) + 1, or <= 0 for an empty output.
int64_t out_size(int64_t size, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  const int64_t num = size + 2 * pad - dil * (k - 1) - 1;
  return num < 0 ? 0 : num / stride + 1;
}

Conv2dShape conv_params(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  Napi::Object o = params_object(info, i, "Conv2dParams");
  Conv2dShape p;
  p.n = prop_size(env, o, "n", 1);
  p.cin = prop_size(env, o, "cIn", 1);
  p.h = prop_size(env, o, "h", 1);
  p.w = prop_size(env, o, "w", 1);
  p.cout = prop_size(env, o, "cOut", 1);
  p.kh = prop_size(env, o, "kH", 1);
  p.kw = prop_size(env, o, "kW", 1);
  p.sh = prop_size(env, o, "strideH", 1);
  p.sw = prop_size(env, o, "strideW", 1);
  p.ph = prop_size(env, o, "padH", 0);
  p.pw = prop_size(env, o, "padW", 0);
  p.dh = prop_size(env, o, "dilationH", 1);
  p.dw = prop_size(env, o, "dilationW", 1);
  p.oh = prop_size(env, o, "outH", 0);
  p.ow = prop_size(env, o, "outW", 0);
  const std::string geom = "input " + quad(p.n, p.cin, p.h, p.w) + " and weight " + quad(p.cout, p.cin, p.kh, p.kw) +
                           " with stride " + pair(p.sh, p.sw) + ", padding " + pair(p.ph, p.pw) + ", dilation " +
                           pair(p.dh, p.dw);
  const int64_t eh = out_size(p.h, p.kh, p.sh, p.ph, p.dh), ew = out_size(p.w, p.kw, p.sw, p.pw, p.dw);
  if (eh <= 0 || ew <= 0) range_error(env, "a non-empty convolution output", "p", geom);
  if (p.oh != eh) range_error(env, "outH " + std::to_string(eh) + " (" + geom + ")", "outH", std::to_string(p.oh));
  if (p.ow != ew) range_error(env, "outW " + std::to_string(ew) + " (" + geom + ")", "outW", std::to_string(p.ow));
  const double n = (double)p.n;
  check_count(env, n * p.cin * p.h * p.w, "p", geom);
  check_count(env, n * p.cout * p.oh * p.ow, "p", geom);
  check_count(env, (double)p.cin * p.kh * p.kw * (double)p.oh * p.ow * (double)(num_threads() + 1), "p", geom);
  check_count(env, (double)p.cout * p.cin * p.kh * p.kw * (double)(num_threads() + 1), "p", geom);
  return p;
}

Pool2dShape pool_params(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  Napi::Object o = params_object(info, i, "Pool2dParams");
  Pool2dShape p;
  p.n = prop_size(env, o, "n", 1);
  p.c = prop_size(env, o, "c", 1);
  p.h = prop_size(env, o, "h", 1);
  p.w = prop_size(env, o, "w", 1);
  p.kh = prop_size(env, o, "kH", 1);
  p.kw = prop_size(env, o, "kW", 1);
  p.sh = prop_size(env, o, "strideH", 1);
  p.sw = prop_size(env, o, "strideW", 1);
  p.ph = prop_size(env, o, "padH", 0);
  p.pw = prop_size(env, o, "padW", 0);
  p.oh = prop_size(env, o, "outH", 0);
  p.ow = prop_size(env, o, "outW", 0);
  if (p.ph > p.kh / 2)
    range_error(env, "padH <= kH / 2 (kH " + std::to_string(p.kh) + ")", "padH", std::to_string(p.ph));
  if (p.pw > p.kw / 2)
    range_error(env, "padW <= kW / 2 (kW " + std::to_string(p.kw) + ")", "padW", std::to_string(p.pw));
  const std::string geom = "input " + quad(p.n, p.c, p.h, p.w) + " with window " + pair(p.kh, p.kw) + ", stride " +
                           pair(p.sh, p.sw) + ", padding " + pair(p.ph, p.pw);
  const int64_t eh = out_size(p.h, p.kh, p.sh, p.ph, 1), ew = out_size(p.w, p.kw, p.sw, p.pw, 1);
  if (eh <= 0 || ew <= 0) range_error(env, "a non-empty pooling output", "p", geom);
  if (p.oh != eh) range_error(env, "outH " + std::to_string(eh) + " (" + geom + ")", "outH", std::to_string(p.oh));
  if (p.ow != ew) range_error(env, "outW " + std::to_string(ew) + " (" + geom + ")", "outW", std::to_string(p.ow));
  if ((double)p.h * p.w > 2147483647.0)
    range_error(env, "an input plane of fewer than 2^31 elements (argmax is Int32)", "p", geom);
  check_count(env, (double)p.n * p.c * p.h * p.w, "p", geom);
  return p;
}

size_t f32_len(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Float32Array>().ElementLength(); }

// ------------------------------------------------------------------------------------ convolution

Napi::Value Conv2dWorkspaceSize(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 0);
  return Napi::Number::New(info.Env(), (double)conv2d_workspace_size(p, num_threads()));
}

Napi::Value Im2col(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 2);
  float* cols = f32(info, 0, "cols", mul(p.cin * p.kh * p.kw, p.oh * p.ow));
  const float* x = f32(info, 1, "x", mul(p.cin, p.h * p.w));
  im2col(cols, x, p);
  return info.Env().Undefined();
}

Napi::Value Col2im(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 2);
  float* dx = f32(info, 0, "dx", mul(p.cin, p.h * p.w));
  const float* cols = f32(info, 1, "cols", mul(p.cin * p.kh * p.kw, p.oh * p.ow));
  col2im(dx, cols, p);
  return info.Env().Undefined();
}

Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 5);
  float* y = f32(info, 0, "y", mul(p.n * p.cout, p.oh * p.ow));
  const float* x = f32(info, 1, "x", mul(p.n * p.cin, p.h * p.w));
  const float* w = f32(info, 2, "w", mul(p.cout * p.cin, p.kh * p.kw));
  const float* bias = f32_opt(info, 3, "bias", (size_t)p.cout);
  float* ws = f32(info, 4, "workspace", conv2d_workspace_min(p));
  conv2d_forward(y, x, w, bias, ws, f32_len(info, 4), p);
  return info.Env().Undefined();
}

Napi::Value Conv2dBackward(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 7);
  float* dx = f32_opt(info, 0, "dx", mul(p.n * p.cin, p.h * p.w));
  float* dw = f32(info, 1, "dw", mul(p.cout * p.cin, p.kh * p.kw));
  float* db = f32_opt(info, 2, "db", (size_t)p.cout);
  const float* x = f32(info, 3, "x", mul(p.n * p.cin, p.h * p.w));
  const float* w = f32(info, 4, "w", mul(p.cout * p.cin, p.kh * p.kw));
  const float* dy = f32(info, 5, "dy", mul(p.n * p.cout, p.oh * p.ow));
  float* ws = f32(info, 6, "workspace", conv2d_workspace_min(p));
  conv2d_backward(dx, dw, db, x, w, dy, ws, f32_len(info, 6), p);
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------------------- pooling

Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  Pool2dShape p = pool_params(info, 3);
  const size_t out = mul(p.n * p.c, p.oh * p.ow);
  float* y = f32(info, 0, "y", out);
  int32_t* argmax = i32(info, 1, "argmax", out);
  const float* x = f32(info, 2, "x", mul(p.n * p.c, p.h * p.w));
  max_pool2d_forward(y, argmax, x, p);
  return info.Env().Undefined();
}

Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  Pool2dShape p = pool_params(info, 3);
  const size_t out = mul(p.n * p.c, p.oh * p.ow);
  float* dx = f32(info, 0, "dx", mul(p.n * p.c, p.h * p.w));
  const int32_t* argmax = i32(info, 1, "argmax", out);
  const float* dy = f32(info, 2, "dy", out);
  if (!max_pool2d_backward(dx, argmax, dy, p))
    range_error(info.Env(), "argmax entries in [0, " + std::to_string(p.h * p.w) + ")", "argmax",
                "an entry outside that range");
  return info.Env().Undefined();
}

Napi::Value AvgPool2dForward(const Napi::CallbackInfo& info) {
  Pool2dShape p = pool_params(info, 2);
  float* y = f32(info, 0, "y", mul(p.n * p.c, p.oh * p.ow));
  const float* x = f32(info, 1, "x", mul(p.n * p.c, p.h * p.w));
  avg_pool2d_forward(y, x, p);
  return info.Env().Undefined();
}

Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  Pool2dShape p = pool_params(info, 2);
  float* dx = f32(info, 0, "dx", mul(p.n * p.c, p.h * p.w));
  const float* dy = f32(info, 1, "dy", mul(p.n * p.c, p.oh * p.ow));
  avg_pool2d_backward(dx, dy, p);
  return info.Env().Undefined();
}

}  // namespace

void InitConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dWorkspaceSize", Napi::Function::New(env, Conv2dWorkspaceSize, "conv2dWorkspaceSize"));
  exports.Set("im2col", Napi::Function::New(env, Im2col, "im2col"));
  exports.Set("col2im", Napi::Function::New(env, Col2im, "col2im"));
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward, "conv2dForward"));
  exports.Set("conv2dBackward", Napi::Function::New(env, Conv2dBackward, "conv2dBackward"));
  exports.Set("maxPool2dForward", Napi::Function::New(env, MaxPool2dForward, "maxPool2dForward"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("avgPool2dForward", Napi::Function::New(env, AvgPool2dForward, "avgPool2dForward"));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2dBackward, "avgPool2dBackward"));
}

}  // namespace mb::glue
