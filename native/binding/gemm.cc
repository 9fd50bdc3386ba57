// gemm.cc — N-API glue for the gemm kernels: gemm (the Backend method) and gemmRef (the scalar
// oracle, same signature, for tests).
//
//   gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
//   a: [m, k] or [k, m] (transA), b: [k, n] or [n, k] (transB), c: [m, n]; all Float32Array.
#include "../kernels/gemm.h"
#include "common.h"
#include "families.h"

namespace mb::glue {

namespace {

struct GemmArgs {
  bool transA, transB;
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  const float* b;
  float* c;
};

GemmArgs parse(const Napi::CallbackInfo& info) {
  GemmArgs g;
  g.transA = bool_arg(info, 0, "transA");
  g.transB = bool_arg(info, 1, "transB");
  g.m = size_arg(info, 2, "m");
  g.n = size_arg(info, 3, "n");
  g.k = size_arg(info, 4, "k");
  g.alpha = (float)num_arg(info, 5, "alpha");
  g.a = f32(info, 6, "a", mul(info.Env(), "a", {g.m, g.k}));
  g.b = f32(info, 7, "b", mul(info.Env(), "b", {g.k, g.n}));
  g.beta = (float)num_arg(info, 8, "beta");
  g.c = f32(info, 9, "c", mul(info.Env(), "c", {g.m, g.n}));
  return g;
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const GemmArgs g = parse(info);
  sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.transA ? g.m : g.k, g.b, g.transB ? g.k : g.n, g.beta,
        g.c, g.n);
  return info.Env().Undefined();
}

Napi::Value GemmRef(const Napi::CallbackInfo& info) {
  const GemmArgs g = parse(info);
  sgemm_ref(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.transA ? g.m : g.k, g.b, g.transB ? g.k : g.n,
            g.beta, g.c, g.n);
  return info.Env().Undefined();
}

}  // namespace

void InitGemm(Napi::Env env, Napi::Object exports) {
  set_exports(env, exports, {{"gemm", Gemm}, {"gemmRef", GemmRef}});
}

}  // namespace mb::glue
