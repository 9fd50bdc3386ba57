// addon.cc — registers the exports of every binding family; nothing else lives here.
#include <napi.h>

#include "binding/families.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mb::glue::InitSystem(env, exports);
  mb::glue::InitGemm(env, exports);
  mb::glue::InitActivations(env, exports);
  mb::glue::InitLoss(env, exports);
  mb::glue::InitConv(env, exports);
  mb::glue::InitConvGrouped(env, exports);
  mb::glue::InitPool(env, exports);
  mb::glue::InitGlobalPool(env, exports);
  mb::glue::InitNorm(env, exports);
  mb::glue::InitOptim(env, exports);
  mb::glue::InitStats(env, exports);
  return exports;
}

NODE_API_MODULE(minibatch, Init)
