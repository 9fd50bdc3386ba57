// families.h — one Init function per binding family (native/binding/<family>.cc).
#pragma once
#include <napi.h>

namespace mb::glue {
void InitSystem(Napi::Env env, Napi::Object exports);
void InitGemm(Napi::Env env, Napi::Object exports);
void InitActivations(Napi::Env env, Napi::Object exports);
void InitLoss(Napi::Env env, Napi::Object exports);
void InitConv(Napi::Env env, Napi::Object exports);
void InitConvGrouped(Napi::Env env, Napi::Object exports);
void InitPool(Napi::Env env, Napi::Object exports);
void InitGlobalPool(Napi::Env env, Napi::Object exports);
void InitNorm(Napi::Env env, Napi::Object exports);
void InitOptim(Napi::Env env, Napi::Object exports);
void InitStats(Napi::Env env, Napi::Object exports);
}  // namespace mb::glue
