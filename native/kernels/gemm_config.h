// gemm_config.h — register and cache blocking for sgemm (BLIS naming), and the rules that pick the
// cache blocks from the caches of the machine the code runs on.
//
//   MR × NR   register tile of the micro-kernel (6 × 16 floats: 12 ymm accumulators on AVX2;
//             12 × 32: 24 zmm accumulators on AVX-512) — fixed at compile time
//   KC        depth of a packed panel
//   KC_MAX    the last slice of k may grow up to KC_MAX instead of leaving a thin remainder slice
//             (k = 784 with KC 256: 256 + 256 + 272, not 256 · 3 + 16), which would pay a full pass over C
//   MC        rows of the packed A block (MC × KC floats)
//   NC        columns of the packed B block (KC × NC floats)
//
// Loop order (gemm.cc): for each KC × NR micro-panel of B, the micro-kernel walks every MR × KC
// micro-panel of the A block, so the B micro-panel is reused from L1 and the A block from L2, and
// the B block is read once per A block from L3. The rules (the analytical model of Low et al.,
// "Analytical modeling is enough for high-performance BLIS", simplified):
//   KC: the B micro-panel, KC · NR floats, is the size of L1d (the A micro-panel and C tile stream
//       beside it; a deeper KC means fewer passes over C); a multiple of 8, clamped to [128, 384]
//   MC: the A block fills about half of L2; a multiple of MR, clamped to [MR, 1020]
//   NC: the B block fills about a quarter of L3 (shared with the other cores); a multiple of NR,
//       clamped to [16 NR, 8192]
// For the 12 × 32 kernel that gives KC 256, MC 504, NC 8192 on a Zen 4 core (32 KiB L1d, 1 MiB L2,
// 32 MiB L3) and KC 384, MC 672 on a Sapphire Rapids core (48 KiB, 2 MiB), close to BLIS's own
// tuned sets for those cores. On the Zen 4 core a KC sized for A + B micro-panels in 3/4 of L1d
// (136) measured 5-10% slower at 1024³ than 256.
// MINIBATCH_GEMM_BLOCKS=kc,mc,nc overrides the three for experiments (rounded to the rules' multiples).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace mb::gemm_config {

constexpr int64_t MR = 6;
constexpr int64_t NR = 16;
constexpr int64_t MR_AVX512 = 12;
constexpr int64_t NR_AVX512 = 32;

// Below this many multiply-adds (m·n·k) sgemm skips packing and runs a plain loop.
constexpr int64_t SMALL_MNK = 1024;
// Multiply-adds per thread below which adding a thread does not pay for its start-up.
constexpr int64_t MNK_PER_THREAD = 128 * 128 * 128;

struct Blocks {
  int64_t kc, kc_max, mc, nc;
};

inline int64_t clamp_to(int64_t v, int64_t lo, int64_t hi, int64_t mult) {
  v = std::max(lo, std::min(hi, v));
  return std::max(mult, v / mult * mult);
}

// The cache blocks for an MR × NR micro-kernel on caches of l1d, l2 and l3 bytes (l3 0: none known).
inline Blocks blocks_for(int64_t mr, int64_t nr, int64_t l1d, int64_t l2, int64_t l3) {
  const int64_t f = (int64_t)sizeof(float);
  Blocks b;
  b.kc = clamp_to(l1d / (nr * f), 128, 384, 8);
  b.mc = clamp_to(l2 / 2 / (b.kc * f), mr, 1020 / mr * mr, mr);
  b.nc = clamp_to(l3 > 0 ? l3 / 4 / (b.kc * f) : 4096, 16 * nr, 8192 / nr * nr, nr);
  if (const char* env = std::getenv("MINIBATCH_GEMM_BLOCKS")) {
    long long kc = 0, mc = 0, nc = 0;
    if (std::sscanf(env, "%lld,%lld,%lld", &kc, &mc, &nc) == 3 && kc > 0 && mc > 0 && nc > 0) {
      b.kc = clamp_to(kc, 8, 4096, 8);
      b.mc = clamp_to(mc, mr, 1 << 16, mr);
      b.nc = clamp_to(nc, nr, 1 << 20, nr);
    }
  }
  b.kc_max = b.kc + b.kc / 4;
  return b;
}

}  // namespace mb::gemm_config
