// conv_grouped.cc — N-API glue for grouped and depthwise convolution (direct loops).
//
// GroupedConv2dParams are Conv2dParams plus `groups`, which must divide cIn and cOut; outH/outW
// must equal PyTorch's formula and every buffer length is checked against sizes computed from them.
#include <string>

#include "../kernels/conv_grouped.h"
#include "common.h"
#include "families.h"
#include "geometry.h"

namespace mb::glue {

namespace {

struct Grouped {
  Conv2dShape p;
  int64_t groups;
  size_t xs, ys, ws;  // element counts of x, y and w (checked products)
};

Grouped grouped_params(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  Napi::Object o = params_object(info, i, "GroupedConv2dParams");
  Grouped g;
  Conv2dShape& p = g.p;
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
  g.groups = prop_size(env, o, "groups", 1);
  if (p.cin % g.groups != 0 || p.cout % g.groups != 0)
    range_error(env, "groups that divide cIn " + std::to_string(p.cin) + " and cOut " + std::to_string(p.cout), "groups",
                std::to_string(g.groups));
  const int64_t groups = g.groups;
  const auto geom = [&p, groups] {
    return "input " + quad(p.n, p.cin, p.h, p.w) + " and weight " + quad(p.cout, p.cin / groups, p.kh, p.kw) +
           " with stride " + pair(p.sh, p.sw) + ", padding " + pair(p.ph, p.pw) + ", dilation " + pair(p.dh, p.dw);
  };
  const int64_t eh = out_size(p.h, p.kh, p.sh, p.ph, p.dh), ew = out_size(p.w, p.kw, p.sw, p.pw, p.dw);
  check_out_size(env, "convolution", eh, ew, p.oh, p.ow, geom);
  g.xs = mul(env, "x", {p.n, p.cin, p.h, p.w});
  g.ys = mul(env, "y", {p.n, p.cout, p.oh, p.ow});
  g.ws = mul(env, "w", {p.cout, p.cin / g.groups, p.kh, p.kw});
  return g;
}

Napi::Value GroupedConv2dForward(const Napi::CallbackInfo& info) {
  Grouped g = grouped_params(info, 4);
  const Conv2dShape& p = g.p;
  float* y = f32(info, 0, "y", g.ys);
  const float* x = f32(info, 1, "x", g.xs);
  const float* w = f32(info, 2, "w", g.ws);
  const float* bias = f32_opt(info, 3, "bias", (size_t)p.cout);
  conv2d_grouped_forward(y, x, w, bias, p, g.groups);
  return info.Env().Undefined();
}

Napi::Value GroupedConv2dBackward(const Napi::CallbackInfo& info) {
  Grouped g = grouped_params(info, 6);
  const Conv2dShape& p = g.p;
  float* dx = f32_opt(info, 0, "dx", g.xs);
  float* dw = f32(info, 1, "dw", g.ws);
  float* db = f32_opt(info, 2, "db", (size_t)p.cout);
  const float* x = f32(info, 3, "x", g.xs);
  const float* w = f32(info, 4, "w", g.ws);
  const float* dy = f32(info, 5, "dy", g.ys);
  conv2d_grouped_backward(dx, dw, db, x, w, dy, p, g.groups);
  return info.Env().Undefined();
}

}  // namespace

void InitConvGrouped(Napi::Env env, Napi::Object exports) {
  exports.Set("groupedConv2dForward", Napi::Function::New(env, GroupedConv2dForward, "groupedConv2dForward"));
  exports.Set("groupedConv2dBackward", Napi::Function::New(env, GroupedConv2dBackward, "groupedConv2dBackward"));
}

}  // namespace mb::glue
