// gemm.h — single-precision GEMM, row-major, BLIS-style (packing, cache blocking, micro-kernel).
//
//   C[m, n] = alpha * op(A)[m, k] · op(B)[k, n] + beta * C[m, n]
//
// A is stored [m, k] with leading dimension lda (transA false) or [k, m] (transA true); likewise B is
// [k, n] or [n, k] with ldb; C is [m, n] with ldc. beta == 0 overwrites C (NaN in C is ignored).
// nthreads: threads for this call's parallel loops (1 when called from inside a parallel region;
// 0 means num_threads()). Scratch (packing buffers) belongs to the calling thread (grown once, reused), never to a static.
//
// Structure (BLIS): for each NC-wide block of columns and KC-deep slice of k, B is packed into
// KC × NR micro-panels, MC × KC blocks of A into MR × KC micro-panels, and the MR × NR micro-kernel
// runs over them. Threads each take a block of C (rows, or columns when C is short) with their own
// packing buffers. Edges are zero-padded in the packed panels; edge tiles of C go through a small
// temporary tile. Block sizes: gemm_config.h (one set per micro-kernel shape: 6 × 16 for the scalar
// and AVX2 kernels, 12 × 32 for AVX-512), chosen at run time from the machine's cache sizes. Tiny products (m·n·k <= SMALL_MNK) skip packing.
#pragma once

#include <cstdint>

namespace mb {

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int nthreads = 0);

// The register tile and cache blocks sgemm uses for the 6 × 16 (scalar, AVX2) or 12 × 32 (AVX-512)
// micro-kernel on this machine (gemm_config.h has the rules).
struct GemmBlocks {
  int64_t mr, nr, kc, kc_max, mc, nc;
};
GemmBlocks sgemm_blocks(bool avx512);

// Naive triple loop with double accumulation: the test oracle.
void sgemm_ref(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// Micro-kernel contract (MR = 6, NR = 16):
//   C[6, 16] (row stride ldc) = Ap[kc, 6]ᵀ · Bp[kc, 16] + beta * C     (beta == 0: C is not read)
// Ap: packed A micro-panel, kc × 6 (6 values per step of k); Bp: packed B micro-panel, kc × 16;
// both 32-byte aligned. kc >= 1. alpha is folded into Ap when packing.
void sgemm_ukernel_ref_6x16(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, float beta);
// AVX2 + FMA, fully unrolled, 12 ymm accumulators (gemm_avx2.cc; only when simd_level() >= Avx2 and
// the AVX-512 kernel is not used).
void sgemm_ukernel_avx2_6x16(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, float beta);
// The same contract with MR = 12, NR = 32 (Ap: kc × 12, Bp: kc × 32, 64-byte aligned): AVX-512,
// fully unrolled, 24 zmm accumulators (gemm_avx512.cc; only when simd_level() == Avx512).
void sgemm_ukernel_avx512_12x32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, float beta);
// Packs one full micro-panel of a transposed B for the 12 × 32 kernel: src[j·ldb + p] (j < 32,
// p < kc) → dst[p·32 + j]; dst 64-byte aligned (gemm_avx512.cc; only when simd_level() == Avx512).
void sgemm_pack_b_t_avx512_32(float* dst, const float* src, int64_t ldb, int64_t kc);
// Packs one full micro-panel of a row-major A for the 12 × 32 kernel, scaled: dst[p·12 + i] =
// alpha · src[i·lda + p] (i < 12, p < kc) (gemm_avx512.cc; only when simd_level() == Avx512).
void sgemm_pack_a_n_avx512_12(float* dst, const float* src, int64_t lda, int64_t kc, float alpha);

}  // namespace mb
