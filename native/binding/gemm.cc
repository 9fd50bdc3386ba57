// gemm.cc — N-API glue for the gemm kernels (to be filled).
#include "families.h"

namespace mb::glue {
void InitGemm(Napi::Env, Napi::Object) {}
}  // namespace mb::glue
