// gemm_config.h — register and cache blocking for sgemm (BLIS naming).
//
//   MR × NR   register tile of the micro-kernel (6 × 16 floats: 12 ymm accumulators on AVX2)
//   KC        depth of a packed panel: one KC × NR micro-panel of B stays in L1
//   KC_MAX    the last slice of k may grow up to KC_MAX instead of leaving a thin remainder slice
//             (k = 784: 256 + 256 + 272, not 256 · 3 + 16), which would pay a full pass over C
//   MC        rows of the packed A block (MC × KC floats) that stays in L2
//   NC        columns of the packed B block (KC × NC floats) that stays in L3
//
// The micro-kernels take MR and NR from here; MC must be a multiple of MR and NC of NR. The first set
// serves the scalar and AVX2 6 × 16 kernels, the *_AVX512 set the AVX-512 12 × 32 kernel (24 zmm
// accumulators); the driver packs A and B in the panel widths of the kernel it runs.
#pragma once

#include <cstdint>

namespace mb::gemm_config {

constexpr int64_t MR = 6;
constexpr int64_t NR = 16;
constexpr int64_t KC = 256;
constexpr int64_t KC_MAX = 320;
constexpr int64_t MC = 144;
constexpr int64_t NC = 4080;

// AVX-512: a KC × 32 micro-panel of B (32 KiB at KC = 256) plus a 12 × KC panel of A in L1.
constexpr int64_t MR_AVX512 = 12;
constexpr int64_t NR_AVX512 = 32;
constexpr int64_t KC_AVX512 = 256;
constexpr int64_t KC_MAX_AVX512 = 320;
constexpr int64_t MC_AVX512 = 144;
constexpr int64_t NC_AVX512 = 4096;

// Below this many multiply-adds (m·n·k) sgemm skips packing and runs a plain loop.
constexpr int64_t SMALL_MNK = 1024;
// Multiply-adds per thread below which adding a thread does not pay for its start-up.
constexpr int64_t MNK_PER_THREAD = 128 * 128 * 128;

static_assert(MC % MR == 0, "MC must be a multiple of MR");
static_assert(NC % NR == 0, "NC must be a multiple of NR");
static_assert(KC_MAX >= KC, "KC_MAX must be at least KC");
static_assert(MC_AVX512 % MR_AVX512 == 0, "MC_AVX512 must be a multiple of MR_AVX512");
static_assert(NC_AVX512 % NR_AVX512 == 0, "NC_AVX512 must be a multiple of NR_AVX512");
static_assert(KC_MAX_AVX512 >= KC_AVX512, "KC_MAX_AVX512 must be at least KC_AVX512");

}  // namespace mb::gemm_config
