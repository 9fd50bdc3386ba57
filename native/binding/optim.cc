// optim.cc — N-API glue for the optim kernels (to be filled).
#include "families.h"

namespace mb::glue {
void InitOptim(Napi::Env, Napi::Object) {}
}  // namespace mb::glue
