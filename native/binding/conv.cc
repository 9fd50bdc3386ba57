// conv.cc — N-API glue for the conv kernels (to be filled).
#include "families.h"

namespace mb::glue {
void InitConv(Napi::Env, Napi::Object) {}
}  // namespace mb::glue
