// norm.cc — N-API glue for the norm kernels (to be filled).
#include "families.h"

namespace mb::glue {
void InitNorm(Napi::Env, Napi::Object) {}
}  // namespace mb::glue
