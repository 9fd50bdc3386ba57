// global_pool.cc — N-API glue for global average pooling: globalAvgPoolForward(y, x, n, c, hw) and
// globalAvgPoolBackward(dx, dy, n, c, hw). The sizes are checked first, then every buffer against
// them; globalPoolReference holds the scalar forms behind the same checks, for tests.
#include "../kernels/global_pool.h"
#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

// n, c, hw at positions i, i+1, i+2; returns n·c·hw (and n·c in planes).
size_t planes_hw(const Napi::CallbackInfo& info, size_t i, int64_t& planes, int64_t& hw) {
  const int64_t n = size_arg(info, i, "n");
  const int64_t c = size_arg(info, i + 1, "c");
  hw = size_arg(info, i + 2, "hw");
  const size_t total = mul(info.Env(), "n x c x hw", {n, c, hw});
  planes = n * c;
  return total;
}

template <bool Ref>
Napi::Value GlobalAvgPoolForward(const Napi::CallbackInfo& info) {
  int64_t planes, hw;
  const size_t total = planes_hw(info, 2, planes, hw);
  float* y = f32(info, 0, "y", (size_t)planes);
  const float* x = f32(info, 1, "x", total);
  (Ref ? global_avg_pool_forward_ref : global_avg_pool_forward)(y, x, planes, hw);
  return info.Env().Undefined();
}

template <bool Ref>
Napi::Value GlobalAvgPoolBackward(const Napi::CallbackInfo& info) {
  int64_t planes, hw;
  const size_t total = planes_hw(info, 2, planes, hw);
  float* dx = f32(info, 0, "dx", total);
  const float* dy = f32(info, 1, "dy", (size_t)planes);
  (Ref ? global_avg_pool_backward_ref : global_avg_pool_backward)(dx, dy, planes, hw);
  return info.Env().Undefined();
}

}  // namespace

void InitGlobalPool(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"globalAvgPoolForward", GlobalAvgPoolForward<false>},
      {"globalAvgPoolBackward", GlobalAvgPoolBackward<false>}});
  Napi::Object ref = Napi::Object::New(env);
  set_exports(env, ref, {{"globalAvgPoolForward", GlobalAvgPoolForward<true>},
      {"globalAvgPoolBackward", GlobalAvgPoolBackward<true>}});
  exports.Set("globalPoolReference", ref);
}

}  // namespace mb::glue
