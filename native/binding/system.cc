// system.cc — N-API glue for capabilities and thread control.
#include "../kernels/cpu.h"
#include "common.h"
#include "families.h"

namespace mb::glue {

static Napi::Value NativeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", simd_name(simd_level()));
  o.Set("cpuAvx2", cpu_has_avx2_fma());
  o.Set("cpuAvx512", cpu_has_avx512());
  o.Set("openmp", have_openmp());
  o.Set("threads", num_threads());
  return o;
}

static Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int64_t n = size_arg(info, 0, "n", 1);
  if (n > 1024) range_error(info.Env(), "integer between 1 and 1024", "n", describe(info[0]));
  set_num_threads((int)n);
  return info.Env().Undefined();
}

static Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), num_threads());
}

void InitSystem(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"nativeInfo", NativeInfo}, {"setNumThreads", SetNumThreads},
      {"getNumThreads", GetNumThreads}});
}

}  // namespace mb::glue
