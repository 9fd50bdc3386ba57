// loss.cc — N-API glue for the loss kernels (to be filled).
#include "families.h"

namespace mb::glue {
void InitLoss(Napi::Env, Napi::Object) {}
}  // namespace mb::glue
