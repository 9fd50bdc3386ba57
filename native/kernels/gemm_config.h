// gemm_config.h — register and cache blocking for sgemm (BLIS naming).
//
//   MR × NR   register tile of the micro-kernel (6 × 16 floats: 12 ymm accumulators on AVX2)
//   KC        depth of a packed panel: one KC × NR micro-panel of B stays in L1
//   KC_MAX    the last slice of k may grow up to KC_MAX instead of leaving a thin remainder slice
//             (k = 784: 256 + 256 + 272, not 256 · 3 + 16), which would pay a full pass over C
//   MC        rows of the packed A block (MC × KC floats) that stays in L2
//   NC        columns of the packed B block (KC × NC floats) that stays in L3
//
// The micro-kernels take MR and NR from here; MC must be a multiple of MR and NC of NR.
#pragma once

#include <cstdint>

namespace mb::gemm_config {

constexpr int64_t MR = 6;
constexpr int64_t NR = 16;
constexpr int64_t KC = 256;
constexpr int64_t KC_MAX = 320;
constexpr int64_t MC = 144;
constexpr int64_t NC = 4080;

// Below this many multiply-adds (m·n·k) sgemm skips packing and runs a plain loop.
constexpr int64_t SMALL_MNK = 1024;
// Multiply-adds per thread below which adding a thread does not pay for its start-up.
constexpr int64_t MNK_PER_THREAD = 128 * 128 * 128;

static_assert(MC % MR == 0, "MC must be a multiple of MR");
static_assert(NC % NR == 0, "NC must be a multiple of NR");
static_assert(KC_MAX >= KC, "KC_MAX must be at least KC");

}  // namespace mb::gemm_config
