// conv.cc — N-API glue for convolution (im2col + GEMM).
//
// Conv2dParams arrive as plain objects; every field is read with prop_size, outH/outW
// must equal PyTorch's formula, and every buffer length is checked against sizes computed from them.
#include <string>
#include <vector>

#include "../kernels/conv.h"
#include "../kernels/conv_direct.h"
#include "../kernels/conv_direct_dw.h"
#include "../kernels/cpu.h"
#include "common.h"
#include "families.h"
#include "geometry.h"

namespace mb::glue {

namespace {

Conv2dShape conv_params(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  Napi::Object o = params_object(info, i, "Conv2dParams");
  Conv2dShape p;
  read_fields(env, o, {{"n", 1, &p.n}, {"cIn", 1, &p.cin}, {"h", 1, &p.h}, {"w", 1, &p.w}, {"cOut", 1, &p.cout},
                       {"kH", 1, &p.kh}, {"kW", 1, &p.kw}, {"strideH", 1, &p.sh}, {"strideW", 1, &p.sw},
                       {"padH", 0, &p.ph}, {"padW", 0, &p.pw}, {"dilationH", 1, &p.dh}, {"dilationW", 1, &p.dw},
                       {"outH", 0, &p.oh}, {"outW", 0, &p.ow}});
  const auto geom = [&p] {
    return "input " + quad(p.n, p.cin, p.h, p.w) + " and weight " + quad(p.cout, p.cin, p.kh, p.kw) + " with stride " +
           pair(p.sh, p.sw) + ", padding " + pair(p.ph, p.pw) + ", dilation " + pair(p.dh, p.dw);
  };
  const int64_t eh = out_size(p.h, p.kh, p.sh, p.ph, p.dh), ew = out_size(p.w, p.kw, p.sw, p.pw, p.dw);
  check_out_size(env, "convolution", eh, ew, p.oh, p.ow, geom);
  // Every count the kernels index with, the workspace of one im2col buffer per thread included.
  const int64_t threads = num_threads() + 1;
  mul(env, "x", {p.n, p.cin, p.h, p.w});
  mul(env, "y", {p.n, p.cout, p.oh, p.ow});
  mul(env, "workspace", {p.cin, p.kh, p.kw, p.oh, p.ow, threads});
  mul(env, "w", {p.cout, p.cin, p.kh, p.kw, threads});
  // The chunked workspace (dW partials and one chunk slot per thread), bounded in double first.
  const double ws = conv2d_workspace_bound(p, num_threads());
  if (ws > (double)kMaxElements) range_error(env, "at most 2^32 elements", "workspace", std::to_string((long long)ws));
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
  float* cols = f32(info, 0, "cols", mul(info.Env(), "cols", {p.cin, p.kh, p.kw, p.oh, p.ow}));
  const float* x = f32(info, 1, "x", mul(info.Env(), "x", {p.cin, p.h, p.w}));
  im2col(cols, x, p);
  return info.Env().Undefined();
}

Napi::Value Col2im(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 2);
  float* dx = f32(info, 0, "dx", mul(info.Env(), "x", {p.cin, p.h, p.w}));
  const float* cols = f32(info, 1, "cols", mul(info.Env(), "cols", {p.cin, p.kh, p.kw, p.oh, p.ow}));
  col2im(dx, cols, p);
  return info.Env().Undefined();
}

Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 5);
  const bool pool = info.Length() > 7 && !info[7].IsUndefined() && bool_arg(info, 7, "pool");
  if (pool && p.sw != 1) range_error(info.Env(), "strideW 1 with pool", "p", std::to_string((long long)p.sw));
  if (pool && (p.oh < 2 || p.ow < 2))
    range_error(info.Env(), "an output of at least 2 x 2 with pool", "p", pair(p.oh, p.ow));
  float* y = pool ? f32(info, 0, "y", mul(info.Env(), "y", {p.n, p.cout, p.oh / 2, p.ow / 2}))
                  : f32(info, 0, "y", mul(info.Env(), "y", {p.n, p.cout, p.oh, p.ow}));
  const float* x = f32(info, 1, "x", mul(info.Env(), "x", {p.n, p.cin, p.h, p.w}));
  const float* w = f32(info, 2, "w", mul(info.Env(), "w", {p.cout, p.cin, p.kh, p.kw}));
  const float* bias = f32_opt(info, 3, "bias", (size_t)p.cout);
  float* ws = f32(info, 4, "workspace", conv2d_workspace_min(p));
  const bool relu = info.Length() > 6 && !info[6].IsUndefined() && bool_arg(info, 6, "relu");
  conv2d_forward(y, x, w, bias, ws, f32_len(info, 4), p, relu, pool);
  return info.Env().Undefined();
}

Napi::Value Conv2dBackward(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 7);
  float* dx = f32_opt(info, 0, "dx", mul(info.Env(), "x", {p.n, p.cin, p.h, p.w}));
  float* dw = f32(info, 1, "dw", mul(info.Env(), "w", {p.cout, p.cin, p.kh, p.kw}));
  float* db = f32_opt(info, 2, "db", (size_t)p.cout);
  const float* x = f32(info, 3, "x", mul(info.Env(), "x", {p.n, p.cin, p.h, p.w}));
  const float* w = f32(info, 4, "w", mul(info.Env(), "w", {p.cout, p.cin, p.kh, p.kw}));
  const float* dy = f32(info, 5, "dy", mul(info.Env(), "y", {p.n, p.cout, p.oh, p.ow}));
  float* ws = f32(info, 6, "workspace", conv2d_workspace_min(p));
  conv2d_backward(dx, dw, db, x, w, dy, ws, f32_len(info, 6), p);
  return info.Env().Undefined();
}

// Test hooks: the direct kernels whatever the shape rules say (column stride 1; the input gradient
// also stride 1 and padding <= dilation·(kernel − 1)), with a workspace of their own.
//   conv2dDirect(y, x, w, bias, p, relu, ref): the SIMD tiles, or the scalar reference tile when ref
//   conv2dDirectDx(dx, w, dy, p)
//   conv2dDirectDw(dw, x, dy, p, ref): dw += the weight gradient, SIMD tiles or the reference tile when ref
//   conv2dDirectDwFits(p): whether conv2dBackward computes dW with it (conv2d_direct_dw_fits)
Napi::Value Conv2dDirect(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 4);
  Napi::Env env = info.Env();
  if (p.sw != 1) range_error(env, "strideW 1", "p", std::to_string((long long)p.sw));
  float* y = f32(info, 0, "y", mul(env, "y", {p.n, p.cout, p.oh, p.ow}));
  const float* x = f32(info, 1, "x", mul(env, "x", {p.n, p.cin, p.h, p.w}));
  const float* w = f32(info, 2, "w", mul(env, "w", {p.cout, p.cin, p.kh, p.kw}));
  const float* bias = f32_opt(info, 3, "bias", (size_t)p.cout);
  const bool relu = bool_arg(info, 5, "relu"), ref = bool_arg(info, 6, "ref");
  std::vector<float> ws(conv2d_direct_workspace(p, num_threads(), false));
  (ref ? conv2d_direct_forward_ref : conv2d_direct_forward)(y, x, w, bias, ws.data(), ws.size(), p, relu);
  return env.Undefined();
}

// conv2dDirectPool(y, x, w, bias, p, relu, ref): the pooled forward (y [n, cOut, ⌊outH/2⌋, ⌊outW/2⌋]).
Napi::Value Conv2dDirectPool(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 4);
  Napi::Env env = info.Env();
  if (p.sw != 1 || p.oh < 2 || p.ow < 2) range_error(env, "strideW 1 and an output of at least 2 x 2", "p", pair(p.oh, p.ow));
  float* y = f32(info, 0, "y", mul(env, "y", {p.n, p.cout, p.oh / 2, p.ow / 2}));
  const float* x = f32(info, 1, "x", mul(env, "x", {p.n, p.cin, p.h, p.w}));
  const float* w = f32(info, 2, "w", mul(env, "w", {p.cout, p.cin, p.kh, p.kw}));
  const float* bias = f32_opt(info, 3, "bias", (size_t)p.cout);
  const bool relu = bool_arg(info, 5, "relu"), ref = bool_arg(info, 6, "ref");
  std::vector<float> ws(conv2d_direct_workspace(p, num_threads(), false));
  conv2d_direct_forward_pool(y, x, w, bias, ws.data(), ws.size(), p, relu, ref);
  return env.Undefined();
}

Napi::Value Conv2dDirectDx(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 3);
  Napi::Env env = info.Env();
  if (p.sh != 1 || p.sw != 1 || p.ph > p.dh * (p.kh - 1) || p.pw > p.dw * (p.kw - 1))
    range_error(env, "stride 1 and padding <= dilation·(kernel − 1)", "p", pair(p.sh, p.sw) + " " + pair(p.ph, p.pw));
  float* dx = f32(info, 0, "dx", mul(env, "x", {p.n, p.cin, p.h, p.w}));
  const float* w = f32(info, 1, "w", mul(env, "w", {p.cout, p.cin, p.kh, p.kw}));
  const float* dy = f32(info, 2, "dy", mul(env, "y", {p.n, p.cout, p.oh, p.ow}));
  std::vector<float> ws(conv2d_direct_workspace(p, num_threads(), true));
  conv2d_direct_dx(dx, w, dy, ws.data(), ws.size(), p);
  return env.Undefined();
}

Napi::Value Conv2dDirectDw(const Napi::CallbackInfo& info) {
  Conv2dShape p = conv_params(info, 3);
  Napi::Env env = info.Env();
  if (p.sw != 1) range_error(env, "strideW 1", "p", std::to_string((long long)p.sw));
  float* dw = f32(info, 0, "dw", mul(env, "w", {p.cout, p.cin, p.kh, p.kw}));
  const float* x = f32(info, 1, "x", mul(env, "x", {p.n, p.cin, p.h, p.w}));
  const float* dy = f32(info, 2, "dy", mul(env, "y", {p.n, p.cout, p.oh, p.ow}));
  const bool ref = bool_arg(info, 4, "ref");
  std::vector<float> ws(conv2d_direct_dw_workspace(p, num_threads()));
  conv2d_direct_dw(dw, x, dy, ws.data(), ws.size(), p, ref);
  return env.Undefined();
}

Napi::Value Conv2dDirectDwFits(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), conv2d_direct_dw_fits(conv_params(info, 0)));
}

}  // namespace

void InitConv(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"conv2dWorkspaceSize", Conv2dWorkspaceSize}, {"im2col", Im2col}, {"col2im", Col2im},
      {"conv2dForward", Conv2dForward}, {"conv2dBackward", Conv2dBackward}, {"conv2dDirect", Conv2dDirect},
      {"conv2dDirectPool", Conv2dDirectPool},
      {"conv2dDirectDx", Conv2dDirectDx}, {"conv2dDirectDw", Conv2dDirectDw},
      {"conv2dDirectDwFits", Conv2dDirectDwFits}});
}

}  // namespace mb::glue
