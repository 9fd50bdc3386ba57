// cpu.h — run-time CPU dispatch and thread control for the kernels.
//
// The addon is compiled for baseline x86-64; AVX2+FMA code lives in *_avx2.cc files and AVX-512 code
// in *_avx512.cc files, each compiled with those flags alone. simd_level() is decided once (cpuid and
// the OS's saved register state, then the MINIBATCH_SIMD environment variable — scalar, avx2 or
// avx512 — may cap it) and every kernel family dispatches on it. The levels are ordered: a family
// without an AVX-512 form uses its AVX2 form whenever simd_level() >= Simd::Avx2.
#pragma once

#include <cstdint>

namespace mb {

enum class Simd { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The SIMD level every kernel uses. Thread-safe; decided on first call.
Simd simd_level();
// What the CPU supports, ignoring MINIBATCH_SIMD.
bool cpu_has_avx2_fma();
// AVX-512 F, VL, DQ and BW (with AVX2+FMA), and an OS that saves the opmask and zmm state.
bool cpu_has_avx512();
const char* simd_name(Simd s);

// Data cache sizes of the core the code runs on, in bytes (per core for L1d and L2; the shared L3 as
// cpuid reports it). Read once: cpuid leaf 4 (Intel) or 0x8000001D (AMD), else sysconf, else the
// defaults of a common core (32 KiB, 1 MiB, 8 MiB). `source` says which.
struct CacheSizes {
  int64_t l1d, l2, l3;
  const char* source;
};
const CacheSizes& cache_sizes();

// The FMA ceiling of the widest ISA in use (simd_level()), in GFLOPS summed over `nthreads` threads
// each running independent FMA chains (16 zmm chains on AVX-512, 12 ymm on AVX2, 8 scalar on the
// scalar path) for about `ms` milliseconds: what the bench reports GEMM figures against.
double fma_peak_gflops(int nthreads, int ms);

// Threads used by the kernels' parallel regions (1 without OpenMP). Per calling thread under
// OpenMP (a worker_thread has its own setting).
int num_threads();
// This thread's index in the enclosing parallel region (0 outside one, or without OpenMP).
int thread_id();
void set_num_threads(int n);
bool have_openmp();

// Threads worth waking for `work` units when each thread should get at least `grain` of them: between
// 1 and num_threads(). Small work runs on the calling thread (a parallel region costs a wake-up of
// every thread, tens of microseconds on a busy machine).
int threads_for(int64_t work, int64_t grain);
// Whether `items` independent pieces keep `tb` threads evenly busy: a whole number each, or at
// least three each (the convolution drivers thread over pieces when this holds, else inside them).
inline bool splits_well(int64_t items, int64_t tb) { return tb >= 2 && (items % tb == 0 || items >= 3 * tb); }
// The versions of one kernel by ISA: MB_AVX512(f) / MB_AVX2(f) name f only where its translation
// unit is built (nullptr otherwise), and pick_simd returns the widest one this CPU runs, else
// `fallback` (which may itself be nullptr: "no vector form").
#ifdef MB_HAVE_AVX512_TU
#define MB_AVX512(f) (f)
#else
#define MB_AVX512(f) nullptr
#endif
#ifdef MB_HAVE_AVX2_TU
#define MB_AVX2(f) (f)
#else
#define MB_AVX2(f) nullptr
#endif
template <class F>
inline F pick_simd(F avx512, F avx2, F fallback) {
  if (avx512 != nullptr && simd_level() == Simd::Avx512) return avx512;
  if (avx2 != nullptr && simd_level() >= Simd::Avx2) return avx2;
  return fallback;
}

// Grain for streaming kernels (pooling, elementwise): floats one thread should at least read.
constexpr int64_t kStreamGrain = 32768;

}  // namespace mb
