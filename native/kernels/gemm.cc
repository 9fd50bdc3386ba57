// gemm.cc — sgemm driver: BLIS loop nest, packing, threading, and the scalar reference kernels.
//
// Loop nest (outermost first), see gemm.h; MR, NR, KC, MC and NC are those of the micro-kernel in
// use (a geometry G below: 6 × 16 for the scalar and AVX2 kernels, 12 × 32 for AVX-512):
//   jc over NC-wide column blocks of C
//     pc over KC-deep slices of k           B[pc:pc+kc, jc:jc+nc] → KC × NR micro-panels
//       ic over MC-tall row blocks          A[ic:ic+mc, pc:pc+kc] → MR × KC micro-panels
//         jr over NR micro-panels of B
//           ir over MR micro-panels of A    micro-kernel on one MR × NR tile of C
// The first k slice applies the caller's beta, later ones accumulate (beta = 1). alpha is folded
// into packed A. Threads split C into a fixed grid of MR/NR-aligned blocks (rows first; columns when
// C has too few rows) and run the whole nest on their block with their own packing buffers, so every
// element of C is computed by the same sequence of operations whatever the thread count: results do
// not depend on threads or timing, and no thread waits on another inside the product.
#include "gemm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "cpu.h"
#include "gemm_config.h"

namespace mb {

using namespace gemm_config;

// ------------------------------------------------------------------------------------------ oracle

void sgemm_ref(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++) {
        float a = transA ? A[p * lda + i] : A[i * lda + p];
        float b = transB ? B[j * ldb + p] : B[p * ldb + j];
        s += (double)a * b;
      }
      double c = beta == 0.f ? 0.0 : (double)beta * C[i * ldc + j];
      C[i * ldc + j] = (float)((double)alpha * s + c);
    }
}

// ------------------------------------------------------------------------ portable micro-kernel

void sgemm_ukernel_ref_6x16(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, float beta) {
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; p++) {
    const float* a = Ap + p * MR;
    const float* b = Bp + p * NR;
    for (int i = 0; i < MR; i++)
      for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
  }
  for (int i = 0; i < MR; i++) {
    float* c = C + i * ldc;
    if (beta == 0.f) {
      for (int j = 0; j < NR; j++) c[j] = acc[i][j];
    } else {
      for (int j = 0; j < NR; j++) c[j] = acc[i][j] + beta * c[j];
    }
  }
}

// ------------------------------------------------------------------------------------- packing

namespace {

// Packing scratch owned by the calling thread (a JS thread, a worker_thread, or an OpenMP thread
// running a convolution's per-sample GEMM): grown when a call needs more, reused by every later
// call, freed when the thread ends. Never shared between threads, never a static buffer.
struct ThreadScratch {
  float* ptr = nullptr;
  size_t bytes = 0;
  ~ThreadScratch() { std::free(ptr); }
};

float* thread_scratch(size_t bytes) {
  static thread_local ThreadScratch s;
  if (s.bytes < bytes) {
    std::free(s.ptr);
    const size_t rounded = (bytes + 4095) & ~(size_t)4095;  // a multiple of the alignment, as aligned_alloc wants
    s.ptr = static_cast<float*>(std::aligned_alloc(64, rounded));
    s.bytes = s.ptr ? rounded : 0;
  }
  return s.ptr;
}

}  // namespace

namespace {

using UKernel = void (*)(int64_t, const float*, const float*, float*, int64_t, float);

// Register tile of one micro-kernel shape, and its cache blocks, chosen once from the caches of the
// machine (gemm_config.h).
template <int64_t mr, int64_t nr>
const Blocks& blocks() {
  static const Blocks b = [] {
    const CacheSizes& c = cache_sizes();
    return blocks_for(mr, nr, c.l1d, c.l2, c.l3);
  }();
  return b;
}
struct Geo6x16 {
  static constexpr int64_t MR = gemm_config::MR, NR = gemm_config::NR;
  static constexpr bool kAvx512 = false;
  static const Blocks& B() { return blocks<MR, NR>(); }
};
struct Geo12x32 {
  static constexpr int64_t MR = gemm_config::MR_AVX512, NR = gemm_config::NR_AVX512;
  static constexpr bool kAvx512 = true;  // full row-major A and transposed B panels packed with AVX-512
  static const Blocks& B() { return blocks<MR, NR>(); }
};

// Packs alpha · op(A)[i0:i0+mc, p0:p0+kc] into ceil(mc/MR) micro-panels, each kc × MR (MR values per
// step of k), rows past mc zero. ap: [ceil(mc/MR) · MR · kc].
template <class G>
void pack_a(float* ap, const float* A, int64_t lda, bool transA, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            float alpha) {
  constexpr int64_t MR = G::MR;
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int64_t mr = std::min(MR, mc - ir);
    float* dst = ap + ir * kc;
    if (!transA) {
      // A[i, p] = A[i·lda + p]: MR row streams, interleaved.
#ifdef MB_HAVE_AVX512_TU
      if constexpr (G::kAvx512) {
        if (mr == MR) {
          sgemm_pack_a_n_avx512_12(dst, A + (i0 + ir) * lda + p0, lda, kc, alpha);
          continue;
        }
      }
#endif
      const float* rows[MR];
      for (int64_t i = 0; i < MR; i++) rows[i] = A + (i0 + ir + std::min(i, mr - 1)) * lda + p0;
      if (mr == MR) {
        for (int64_t p = 0; p < kc; p++)
          for (int64_t i = 0; i < MR; i++) dst[p * MR + i] = alpha * rows[i][p];
      } else {
        for (int64_t p = 0; p < kc; p++)
          for (int64_t i = 0; i < MR; i++) dst[p * MR + i] = i < mr ? alpha * rows[i][p] : 0.f;
      }
    } else {
      // A stored [k, m]: A[i, p] = A[p·lda + i], MR contiguous values per step of k.
      for (int64_t p = 0; p < kc; p++) {
        const float* src = A + (p0 + p) * lda + i0 + ir;
        for (int64_t i = 0; i < mr; i++) dst[p * MR + i] = alpha * src[i];
        for (int64_t i = mr; i < MR; i++) dst[p * MR + i] = 0.f;
      }
    }
  }
}

// Packs NR-wide micro-panels [jp0, jp1) of op(B)[p0:p0+kc, j0:j0+nc], each kc × NR, columns past nc
// zero. bp: [ceil(nc/NR) · NR · kc].
template <class G>
void pack_b(float* bp, const float* B, int64_t ldb, bool transB, int64_t j0, int64_t nc, int64_t p0, int64_t kc,
            int64_t jp0, int64_t jp1) {
  constexpr int64_t NR = G::NR;
  for (int64_t jp = jp0; jp < jp1; jp++) {
    const int64_t jr = jp * NR;
    const int64_t nr = std::min(NR, nc - jr);
    float* dst = bp + jr * kc;
    if (!transB) {
      // B[p, j] = B[p·ldb + j]: NR contiguous values per step of k.
      for (int64_t p = 0; p < kc; p++) {
        const float* src = B + (p0 + p) * ldb + j0 + jr;
        if (nr == NR) {
          std::memcpy(dst + p * NR, src, NR * sizeof(float));
        } else {
          for (int64_t j = 0; j < nr; j++) dst[p * NR + j] = src[j];
          for (int64_t j = nr; j < NR; j++) dst[p * NR + j] = 0.f;
        }
      }
    } else {
      // B stored [n, k]: B[p, j] = B[j·ldb + p]. NR row streams read side by side (they stay in L1),
      // so the packed panel is written contiguously.
#ifdef MB_HAVE_AVX512_TU
      if constexpr (G::kAvx512) {
        if (nr == NR) {
          sgemm_pack_b_t_avx512_32(dst, B + (j0 + jr) * ldb + p0, ldb, kc);
          continue;
        }
      }
#endif
      const float* rows[NR];
      for (int64_t j = 0; j < NR; j++) rows[j] = B + (j0 + jr + std::min(j, nr - 1)) * ldb + p0;
      if (nr == NR) {
        for (int64_t p = 0; p < kc; p++)
          for (int64_t j = 0; j < NR; j++) dst[p * NR + j] = rows[j][p];
      } else {
        for (int64_t p = 0; p < kc; p++)
          for (int64_t j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? rows[j][p] : 0.f;
      }
    }
  }
}

struct Job {
  bool transA, transB;
  int64_t m, n, k;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  UKernel uk;
};

// Depth of the next slice of k, given what remains: KC, or all of it when that is at most KC_MAX.
template <class G>
inline int64_t slice_k(int64_t rest) {
  return rest <= G::B().kc_max ? rest : G::B().kc;
}

// The serial loop nest over the block C[row0:row1, col0:col1] (row0 a multiple of MR, col0 of NR, so
// every tile lines up with the tiles of an unsplit run). ap: MC × KC_MAX floats, bp: KC_MAX × NC floats.
template <class G>
void gemm_block(const Job& J, int64_t row0, int64_t row1, int64_t col0, int64_t col1, float* ap, float* bp) {
  constexpr int64_t MR = G::MR, NR = G::NR;
  const int64_t MC = G::B().mc, NC = G::B().nc;
  alignas(64) float tmp[MR * NR];
  for (int64_t jc = col0; jc < col1; jc += NC) {
    const int64_t nc = std::min(NC, col1 - jc);
    const int64_t npan = (nc + NR - 1) / NR;
    for (int64_t pc = 0, kc = 0; pc < J.k; pc += kc) {
      kc = slice_k<G>(J.k - pc);
      pack_b<G>(bp, J.B, J.ldb, J.transB, jc, nc, pc, kc, 0, npan);
      const float beta = pc == 0 ? J.beta : 1.f;  // later slices accumulate
      for (int64_t ic = row0; ic < row1; ic += MC) {
        const int64_t mc = std::min(MC, row1 - ic);
        pack_a<G>(ap, J.A, J.lda, J.transA, ic, mc, pc, kc, J.alpha);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t nr = std::min(NR, nc - jr);
          const float* bpan = bp + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int64_t mr = std::min(MR, mc - ir);
            const float* apan = ap + ir * kc;
            float* c = J.C + (ic + ir) * J.ldc + jc + jr;
            if (mr == MR && nr == NR) {
              J.uk(kc, apan, bpan, c, J.ldc, beta);
            } else {
              J.uk(kc, apan, bpan, tmp, NR, 0.f);
              for (int64_t i = 0; i < mr; i++) {
                float* ci = c + i * J.ldc;
                const float* ti = tmp + i * NR;
                if (beta == 0.f) {
                  std::memcpy(ci, ti, sizeof(float) * nr);
                } else {
                  for (int64_t j = 0; j < nr; j++) ci[j] = ti[j] + beta * ci[j];
                }
              }
            }
          }
        }
      }
    }
  }
}

// C = beta · C (beta == 0 writes zeros).
void scale_c(float* C, int64_t ldc, int64_t m, int64_t n, float beta) {
  for (int64_t i = 0; i < m; i++) {
    float* c = C + i * ldc;
    if (beta == 0.f) {
      for (int64_t j = 0; j < n; j++) c[j] = 0.f;
    } else if (beta != 1.f) {
      for (int64_t j = 0; j < n; j++) c[j] *= beta;
    }
  }
}

// Small problems: no packing, i-p-j order over rows of C.
void sgemm_small(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  scale_c(C, ldc, m, n, beta);
  for (int64_t i = 0; i < m; i++) {
    float* c = C + i * ldc;
    for (int64_t p = 0; p < k; p++) {
      const float a = alpha * (transA ? A[p * lda + i] : A[i * lda + p]);
      if (!transB) {
        const float* b = B + p * ldb;
        for (int64_t j = 0; j < n; j++) c[j] += a * b[j];
      } else {
        for (int64_t j = 0; j < n; j++) c[j] += a * B[j * ldb + p];
      }
    }
  }
}

// A few rows of C against a transposed B (a linear layer on a small batch, x · Wᵀ): m · n dot
// products over contiguous rows of A and B, no packing. The packed path would pad each row of A to
// a whole MR-row panel and compute MR times the work. Eight partial sums per dot product (fixed, so
// the result does not depend on threads); columns of C split over threads when the work is large.
constexpr int64_t kDotRows = 3;
void sgemm_dots(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda, const float* B,
                int64_t ldb, float beta, float* C, int64_t ldc, int nthreads) {
  [[maybe_unused]] int threads = nthreads > 0 ? nthreads : num_threads();
  threads = (int)std::max<int64_t>(1, std::min<int64_t>({(int64_t)threads, n, m * n * k / MNK_PER_THREAD}));
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
#endif
  for (int64_t j = 0; j < n; j++) {
    const float* b = B + j * ldb;
    for (int64_t i = 0; i < m; i++) {
      const float* a = A + i * lda;
      float acc[8] = {};
      int64_t p = 0;
      for (; p + 8 <= k; p += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[p + l] * b[p + l];
      for (int l = 0; p < k; p++, l++) acc[l] += a[p] * b[p];
      const float dot = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      float* c = C + i * ldc + j;
      *c = beta == 0.f ? alpha * dot : alpha * dot + beta * *c;
    }
  }
}

inline int64_t round_up(int64_t x, int64_t r) { return (x + r - 1) / r * r; }

// The packed, blocked, threaded product with micro-kernel uk of geometry G.
// Packing one float costs about as much as this many multiply-adds in the micro-kernel (packing
// reads with a stride and writes a panel; measured on AVX-512 cores from the share packing takes of
// a 1-thread product).
constexpr double kPackCost = 30;

// One thread's estimated work in a tm × tn grid: its multiply-adds, plus packing its columns of B
// (k · n/tn floats) and its rows of A (once per NC-wide block of its columns), on the padded sizes.
inline double grid_cost(int64_t m, int64_t n, int64_t k, int64_t mr, int64_t nr, int64_t nc, int tm, int tn) {
  const double rows = (double)((m + mr - 1) / mr + tm - 1) / tm * mr;
  const double cols = (double)((n + nr - 1) / nr + tn - 1) / tn * nr;
  const double nblocks = std::ceil(cols / (double)nc);
  return rows * cols * (double)k + kPackCost * ((double)k * cols + rows * (double)k * nblocks);
}

template <class G>
void sgemm_packed(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A,
                  int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int nthreads,
                  UKernel uk) {
  constexpr int64_t MR = G::MR, NR = G::NR;
  const int64_t MC = G::B().mc, NC = G::B().nc, KC_MAX = G::B().kc_max;
  const int64_t mnk = m * n * k;

  // Threads: as asked (0: the library setting), fewer when each would get too little work.
  int threads = nthreads > 0 ? nthreads : num_threads();
#ifndef _OPENMP
  threads = 1;
#endif
  threads = (int)std::max<int64_t>(1, std::min<int64_t>(threads, mnk / MNK_PER_THREAD));
  // Grid of tm × tn blocks of C, one per thread. Blocks are independent (each thread packs the A and
  // B it needs), so threads never wait for each other inside the product: a thread descheduled on a
  // busy machine delays only its own block. Each thread packs all of B for its columns, so splitting
  // rows repeats B's packing on every thread; the grid is the one with the least estimated work on
  // one thread (grid_cost). Which grid runs never changes a result: every block edge is a multiple
  // of MR or NR, so each element of C sees the same tiles and the same k slices.
  const int64_t mpan = (m + MR - 1) / MR;
  const int64_t npan = (n + NR - 1) / NR;
  int tm = 1, tn = 1;
  double best = -1;
  for (int a = threads; a >= 1; a--) {  // from the most row blocks: a tie keeps the row split
    if (threads % a != 0 || mpan < a || npan < threads / a) continue;
    const double c = grid_cost(m, n, k, MR, NR, NC, a, threads / a);
    if (best < 0 || c < best) best = c, tm = a, tn = threads / a;
  }
  threads = tm * tn;

  // Scratch for this call, per thread: one packed A block and one packed B block (64-byte aligned).
  const int64_t kcap = std::min(k, KC_MAX);
  const int64_t a_floats = round_up(round_up(std::min(m, MC), MR) * kcap, 16);
  const int64_t b_floats = round_up(round_up(std::min(n, NC), NR) * kcap, 16);
  const size_t bytes = (size_t)((a_floats + b_floats) * threads) * sizeof(float);
  float* scratch = thread_scratch(bytes);
  if (!scratch) {  // out of memory: the unpacked reference still gives the right answer
    sgemm_ref(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }

  const Job job{transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, uk};

  // Thread t's block: rows and columns split into contiguous, MR/NR-aligned ranges.
  auto run = [&](int t) {
    const int ti = t / tn, tj = t % tn;
    const int64_t r0 = std::min(m, mpan * ti / tm * MR), r1 = std::min(m, mpan * (ti + 1) / tm * MR);
    const int64_t c0 = std::min(n, npan * tj / tn * NR), c1 = std::min(n, npan * (tj + 1) / tn * NR);
    float* ap = scratch + (a_floats + b_floats) * t;
    if (r0 < r1 && c0 < c1) gemm_block<G>(job, r0, r1, c0, c1, ap, ap + a_floats);
  };

#ifdef _OPENMP
  if (threads > 1) {
#pragma omp parallel for schedule(static, 1) num_threads(threads)
    for (int t = 0; t < threads; t++) run(t);
  } else
#endif
  {
    run(0);
  }
}

}  // namespace

// ------------------------------------------------------------------------------------- driver

GemmBlocks sgemm_blocks(bool avx512) {
  const Blocks& b = avx512 ? blocks<gemm_config::MR_AVX512, gemm_config::NR_AVX512>()
                           : blocks<gemm_config::MR, gemm_config::NR>();
  const int64_t mr = avx512 ? gemm_config::MR_AVX512 : gemm_config::MR;
  const int64_t nr = avx512 ? gemm_config::NR_AVX512 : gemm_config::NR;
  return GemmBlocks{mr, nr, b.kc, b.kc_max, b.mc, b.nc};
}

namespace {

// The packed product with the micro-kernel of the SIMD level in use.
void sgemm_dispatch(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A,
                    int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int nthreads) {
#ifdef MB_HAVE_AVX512_TU
  if (simd_level() == Simd::Avx512)
    return sgemm_packed<Geo12x32>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, nthreads,
                                  sgemm_ukernel_avx512_12x32);
#endif
#ifdef MB_HAVE_AVX2_TU
  if (simd_level() >= Simd::Avx2)
    return sgemm_packed<Geo6x16>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, nthreads,
                                 sgemm_ukernel_avx2_6x16);
#endif
  sgemm_packed<Geo6x16>(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, nthreads,
                        sgemm_ukernel_ref_6x16);
}

// Whether C is better computed transposed, Cᵀ[n, m] = op(B)ᵀ · op(A)ᵀ: when that pads the register
// tile to at most 3/4 of the area (a linear layer's x · Wᵀ with 10 outputs and a batch of 64: 12 × 64
// instead of 72 × 32 with the 12 × 32 tile) and k is deep enough that the two m·n transposes are
// small beside the product.
bool better_transposed(int64_t m, int64_t n, int64_t k) {
  if (k < 32) return false;
  const GemmBlocks b = sgemm_blocks(simd_level() == Simd::Avx512);
  auto up = [](int64_t v, int64_t r) { return (v + r - 1) / r * r; };
  return 4 * up(n, b.mr) * up(m, b.nr) <= 3 * up(m, b.mr) * up(n, b.nr);
}

// Cᵀ scratch of the calling thread (grown once, reused; never shared).
float* transpose_scratch(size_t floats) {
  static thread_local ThreadScratch s;
  const size_t bytes = floats * sizeof(float);
  if (s.bytes < bytes) {
    std::free(s.ptr);
    const size_t rounded = (bytes + 4095) & ~(size_t)4095;
    s.ptr = static_cast<float*>(std::aligned_alloc(64, rounded));
    s.bytes = s.ptr ? rounded : 0;
  }
  return s.ptr;
}

}  // namespace

void sgemm(bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc, int nthreads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.f) {
    scale_c(C, ldc, m, n, beta);
    return;
  }
  if (m * n * k <= SMALL_MNK) {
    sgemm_small(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (!transA && transB && m <= kDotRows) {
    sgemm_dots(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, nthreads);
    return;
  }
  if (better_transposed(m, n, k)) {
    float* ct = transpose_scratch((size_t)(m * n));
    if (ct) {
      // Cᵀ[n, m] = op(B)ᵀ[n, k] · op(A)ᵀ[k, m] (+ beta · Cᵀ): B read with the opposite transpose as
      // the left operand, A as the right one.
      if (beta != 0.f)
        for (int64_t i = 0; i < m; i++)
          for (int64_t j = 0; j < n; j++) ct[j * m + i] = C[i * ldc + j];
      sgemm_dispatch(!transB, !transA, n, m, k, alpha, B, ldb, A, lda, beta, ct, m, nthreads);
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) C[i * ldc + j] = ct[j * m + i];
      return;
    }
  }
  sgemm_dispatch(transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, nthreads);
}

}  // namespace mb
