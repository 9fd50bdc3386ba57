// cpu.cc — cpuid-based SIMD detection and OpenMP thread control (baseline x86-64 code only).
#include "cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define MB_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace mb {

bool cpu_has_avx2_fma() {
#if defined(MB_X86) && !defined(_MSC_VER)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!(fma && osxsave && avx)) return false;
  // The OS must save the ymm state (XCR0 bits 1 and 2).
  unsigned xlo, xhi;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  if ((xlo & 6u) != 6u) return false;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  return (b >> 5) & 1;  // AVX2
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(MB_X86) && !defined(_MSC_VER)
  if (!cpu_has_avx2_fma()) return false;  // also checks OSXSAVE and cpuid leaf 7
  // The OS must save the ymm, opmask, upper-zmm and zmm16..31 state (XCR0 bits 1, 2, 5, 6, 7).
  unsigned xlo, xhi;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  if ((xlo & 0xE6u) != 0xE6u) return false;
  unsigned a, b, c, d;
  __cpuid_count(7, 0, a, b, c, d);
  const bool f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
  return f && dq && bw && vl;
#else
  return false;
#endif
}

static Simd detect() {
  Simd s = cpu_has_avx512() ? Simd::Avx512 : cpu_has_avx2_fma() ? Simd::Avx2 : Simd::Scalar;
  // MINIBATCH_SIMD caps the level; asking for more than the CPU has gives the CPU's level.
  const char* env = std::getenv("MINIBATCH_SIMD");
  if (env && std::strcmp(env, "scalar") == 0) s = Simd::Scalar;
  if (env && std::strcmp(env, "avx2") == 0 && s > Simd::Avx2) s = Simd::Avx2;
  return s;
}

Simd simd_level() {
  // Function-local static: initialised once, thread-safe (C++11), read-only afterwards.
  static const Simd level = detect();
  return level;
}

const char* simd_name(Simd s) {
  return s == Simd::Avx512 ? "avx512" : s == Simd::Avx2 ? "avx2" : "scalar";
}

int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void set_num_threads(int n) {
#ifdef _OPENMP
  if (n >= 1) omp_set_num_threads(n);
#else
  (void)n;
#endif
}

int threads_for(int64_t work, int64_t grain) {
  const int nt = num_threads();
  if (nt <= 1 || grain <= 0 || work < 2 * grain) return 1;
  const int64_t most = work / grain;
  return most < nt ? (int)most : nt;
}

bool have_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace mb
