// cpu.cc — cpuid-based SIMD detection and OpenMP thread control (baseline x86-64 code only).
#include "cpu.h"

#include <algorithm>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
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

namespace {

// Deterministic cache parameters (cpuid leaf 4 on Intel, 0x8000001D on AMD): level, type and size of
// each cache. Returns false when the leaf is not there.
bool caches_from_cpuid([[maybe_unused]] CacheSizes& c) {
#if defined(MB_X86) && !defined(_MSC_VER)
  unsigned a, b, cx, d;
  __cpuid(0, a, b, cx, d);
  const bool amd = b == 0x68747541u;  // "Auth"enticAMD
  unsigned leaf = 4;
  if (amd) {
    __cpuid(0x80000000u, a, b, cx, d);
    if (a < 0x8000001Du) return false;
    __cpuid(0x80000001u, a, b, cx, d);
    if (!((cx >> 22) & 1)) return false;  // TopologyExtensions: leaf 0x8000001D is valid
    leaf = 0x8000001Du;
  } else if (a < 4) {
    return false;
  }
  bool any = false;
  for (unsigned i = 0; i < 16; i++) {
    __cpuid_count(leaf, i, a, b, cx, d);
    const unsigned type = a & 31, level = (a >> 5) & 7;
    if (type == 0) break;
    if (type == 2) continue;  // instruction cache
    const int64_t ways = ((b >> 22) & 1023) + 1, parts = ((b >> 12) & 1023) + 1, line = (b & 4095) + 1;
    const int64_t size = ways * parts * line * ((int64_t)cx + 1);
    if (level == 1) c.l1d = size;
    if (level == 2) c.l2 = size;
    if (level == 3) c.l3 = size;
    any = true;
  }
  return any && c.l1d > 0 && c.l2 > 0;
#else
  return false;
#endif
}

bool caches_from_sysconf([[maybe_unused]] CacheSizes& c) {
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE)
  const long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#ifdef _SC_LEVEL3_CACHE_SIZE
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
#else
  const long l3 = 0;
#endif
  if (l1 <= 0 || l2 <= 0) return false;
  c.l1d = l1;
  c.l2 = l2;
  c.l3 = l3 > 0 ? l3 : 0;
  return true;
#else
  return false;
#endif
}

CacheSizes detect_caches() {
  CacheSizes c{0, 0, 0, "cpuid"};
  if (!caches_from_cpuid(c)) {
    c = CacheSizes{0, 0, 0, "sysconf"};
    if (!caches_from_sysconf(c)) c = CacheSizes{32 << 10, 1 << 20, 8 << 20, "default"};
  }
  // Implausible readings (a hypervisor's zeros) fall back to the defaults level by level.
  if (c.l1d < (8 << 10) || c.l1d > (1 << 20)) c.l1d = 32 << 10;
  if (c.l2 < (64 << 10) || c.l2 > (64 << 20)) c.l2 = 1 << 20;
  if (c.l3 < c.l2) c.l3 = 0;
  return c;
}

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes c = detect_caches();
  return c;
}

float fma_chains_avx512(int64_t iters, float seed);  // cpu_avx512.cc
float fma_chains_avx2(int64_t iters, float seed);    // cpu_avx2.cc

namespace {

// 8 independent scalar chains (the compiler may not reassociate them); 16 flops an iteration.
float fma_chains_scalar(int64_t iters, float seed) {
  float c[8];
  for (int j = 0; j < 8; j++) c[j] = seed + (float)j / 64;
  for (int64_t i = 0; i < iters; i++)
    for (float& v : c) v = v * 0.999999f + 1e-7f;
  float s = 0.f;
  for (float v : c) s += v;
  return s;
}

// Flops of one iteration of the probe at level s, and the probe itself.
double probe([[maybe_unused]] Simd s, int64_t iters, float* sink) {
#ifdef MB_HAVE_AVX512_TU
  if (s == Simd::Avx512) {
    *sink += fma_chains_avx512(iters, 1.f + *sink * 1e-30f);
    return 16.0 * 16 * 2;
  }
#endif
#ifdef MB_HAVE_AVX2_TU
  if (s >= Simd::Avx2) {
    *sink += fma_chains_avx2(iters, 1.f + *sink * 1e-30f);
    return 12.0 * 8 * 2;
  }
#endif
  *sink += fma_chains_scalar(iters, 1.f + *sink * 1e-30f);
  return 8.0 * 2;
}

// One thread's GFLOPS: iterations calibrated to about ms milliseconds, best of three rounds.
double peak_one(int ms) {
  using clock = std::chrono::steady_clock;
  float sink = 0.f;
  const Simd s = simd_level();
  int64_t iters = 1 << 14;
  double best = 0.0;
  for (int round = 0; round < 8; round++) {
    const auto t0 = clock::now();
    const double flops = probe(s, iters, &sink) * (double)iters;
    const double sec = std::chrono::duration<double>(clock::now() - t0).count();
    if (sec < ms / 4000.0) {  // too short to time: grow and retry
      iters *= 4;
      round--;
      if (iters > (int64_t(1) << 40)) break;
      continue;
    }
    best = std::max(best, flops / sec / 1e9);
    if (round >= 2) break;
  }
  if (sink == 12345.f) best += 1e-9;  // keep the chains alive
  return best;
}

}  // namespace

double fma_peak_gflops(int nthreads, int ms) {
  if (nthreads <= 1) return peak_one(ms);
  double total = 0.0;
#ifdef _OPENMP
#pragma omp parallel num_threads(nthreads) reduction(+ : total)
  total += peak_one(ms);
#else
  total = peak_one(ms);
#endif
  return total;
}

int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

void set_num_threads([[maybe_unused]] int n) {
#ifdef _OPENMP
  if (n >= 1) omp_set_num_threads(n);
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
