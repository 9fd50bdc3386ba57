// activations.cc — N-API glue for the activations kernels (to be filled).
#include "families.h"

namespace mb::glue {
void InitActivations(Napi::Env, Napi::Object) {}
}  // namespace mb::glue
