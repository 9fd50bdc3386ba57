// cpu.h — run-time CPU dispatch and thread control for the kernels.
//
// The addon is compiled for baseline x86-64; AVX2+FMA code lives in *_avx2.cc files compiled with
// those flags alone. simd_level() is decided once (cpuid, then the MINIBATCH_SIMD environment
// variable may lower it to "scalar") and every kernel family dispatches on it.
#pragma once

namespace mb {

enum class Simd { Scalar = 0, Avx2 = 1 };

// The SIMD level every kernel uses. Thread-safe; decided on first call.
Simd simd_level();
// What the CPU supports, ignoring MINIBATCH_SIMD.
bool cpu_has_avx2_fma();
const char* simd_name(Simd s);

// Threads used by the kernels' parallel regions (1 without OpenMP). Per calling thread under
// OpenMP (a worker_thread has its own setting).
int num_threads();
void set_num_threads(int n);
bool have_openmp();

}  // namespace mb
