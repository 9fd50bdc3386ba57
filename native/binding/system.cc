// system.cc — N-API glue for capabilities and thread control.
#include <cstdlib>
#include <string>
#include <utility>

#include "../kernels/cpu.h"
#include "../kernels/gemm.h"
#include "../kernels/optim.h"
#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

// The OpenMP wait variables in the environment while this file's statics were initialised: during the
// dlopen of the addon, just after the OpenMP runtime it links read them (lib/backend/native.ts sets
// the library's defaults around that load). Same for every worker thread: the addon loads once.
const std::string kOmpEnvAtLoad = [] {
  std::string s;
  for (const char* k : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME", "KMP_LIBRARY"}) {
    const char* v = std::getenv(k);
    if (!v) continue;
    if (!s.empty()) s += ' ';
    s += std::string(k) + "=" + v;
  }
  return s;
}();

}  // namespace

static Napi::Value NativeInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", simd_name(simd_level()));
  o.Set("cpuAvx2", cpu_has_avx2_fma());
  o.Set("cpuAvx512", cpu_has_avx512());
  o.Set("openmp", have_openmp());
  o.Set("threads", num_threads());
  o.Set("ompEnv", kOmpEnvAtLoad);
  const CacheSizes& c = cache_sizes();
  Napi::Object caches = Napi::Object::New(env);
  caches.Set("l1d", (double)c.l1d);
  caches.Set("l2", (double)c.l2);
  caches.Set("l3", (double)c.l3);
  caches.Set("source", c.source);
  o.Set("caches", caches);
  const GemmBlocks b = sgemm_blocks(simd_level() == Simd::Avx512);
  Napi::Object g = Napi::Object::New(env);
  for (auto [k, v] : {std::pair<const char*, int64_t>{"mr", b.mr}, {"nr", b.nr}, {"kc", b.kc}, {"kcMax", b.kc_max},
                      {"mc", b.mc}, {"nc", b.nc}})
    g.Set(k, (double)v);
  o.Set("gemmBlocks", g);
  o.Set("optimGuardChunk", (double)optim_guard_chunk());
  return o;
}

// fmaPeak(threads, ms): the measured FMA ceiling in GFLOPS (see cpu.h), for the benchmarks.
static Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  const int64_t t = size_arg(info, 0, "threads", 1), ms = size_arg(info, 1, "ms", 1);
  if (t > 1024) range_error(info.Env(), "integer between 1 and 1024", "threads", describe(info[0]));
  if (ms > 10000) range_error(info.Env(), "integer between 1 and 10000", "ms", describe(info[1]));
  return Napi::Number::New(info.Env(), fma_peak_gflops((int)t, (int)ms));
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
      {"getNumThreads", GetNumThreads}, {"fmaPeak", FmaPeak}});
}

}  // namespace mb::glue
