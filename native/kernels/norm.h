// norm.h — normalization kernels: BatchNorm (training, inference, backward) and the GroupNorm
// family (GroupNorm, and LayerNorm / InstanceNorm through its arguments), with PyTorch's numerics.
//
// Legend: N batch, C channels, I "inner" (H·W for images, 1 for dense features), G groups,
// CG = C / G channels per group. Every tensor is x[N, C, I], row-major float32.
//
// Statistics (one routine for all layers, norm_moments_*): a single pass over the data that
// accumulates, in double precision, s1 = Σ(x - K) and s2 = Σ(x - K)² where the shift K is the
// first value of the set. Shifting makes the pass stable when |mean| >> std (mean 1e4, std 1e-2
// normalizes to std 1 within 1e-3, tested), and double accumulation keeps large sets exact:
// mean = K + s1/m, var = s2/m - (s1/m)² (biased, clamped at 0), rstd = 1/sqrt(var + eps).
//
// Parallel split (fixed, so results never depend on the thread count or timing): BatchNorm over
// tiles of channels (walked sample by sample) or of channel columns (inner == 1); GroupNorm over
// (sample, group), its backward over whole groups when every thread gets one (parameter gradients in
// the same sweep), else over (sample, group) and then channel tiles. Nothing is allocated except, in
// that last case, one vector of N·G doubles; other scratch is fixed stack arrays (<= 4 × 1024 doubles).
//
// Kernels assume validated sizes (n, c, inner >= 1, c % groups == 0, eps > 0); the glue checks.
#pragma once

#include <cstdint>

namespace mb {

// ------------------------------------------------------------------------------ BatchNorm
// Training forward: per channel over N·I values. y[N,C,I]; mean, var (biased), rstd [C];
// x[N,C,I]; gamma, beta [C] or null (1 and 0). y may alias x.
void batch_norm_forward(float* y, float* mean, float* var, float* rstd, const float* x, const float* gamma,
                        const float* beta, int64_t n, int64_t c, int64_t inner, float eps);
// Evaluation: y = gamma · (x - running_mean) / sqrt(running_var + eps) + beta.
void batch_norm_inference(float* y, const float* x, const float* running_mean, const float* running_var,
                          const float* gamma, const float* beta, int64_t n, int64_t c, int64_t inner, float eps);
// Backward with the batch statistics: dx[N,C,I] overwritten; dgamma, dbeta [C] accumulate (null: skip).
void batch_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                         const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t inner);

// ------------------------------------------------------------------------------ GroupNorm
// Forward: mean, rstd [N·G]; gamma, beta [C] or null. y may alias x.
void group_norm_forward(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                        int64_t n, int64_t c, int64_t inner, int64_t groups, float eps);
// Backward: dx overwritten; dgamma, dbeta [C] accumulate (null: skip).
void group_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* mean,
                         const float* rstd, const float* gamma, int64_t n, int64_t c, int64_t inner, int64_t groups);

// Scalar references: straightforward loops, double accumulation, one thread. Test oracle.
void batch_norm_forward_ref(float* y, float* mean, float* var, float* rstd, const float* x, const float* gamma,
                            const float* beta, int64_t n, int64_t c, int64_t inner, float eps);
void batch_norm_backward_ref(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                             const float* mean, const float* rstd, const float* gamma, int64_t n, int64_t c,
                             int64_t inner);
void group_norm_forward_ref(float* y, float* mean, float* rstd, const float* x, const float* gamma,
                            const float* beta, int64_t n, int64_t c, int64_t inner, int64_t groups, float eps);
void group_norm_backward_ref(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                             const float* mean, const float* rstd, const float* gamma, int64_t n, int64_t c,
                             int64_t inner, int64_t groups);

// ----------------------- primitives (scalar here, AVX2 in norm_avx2.cc, AVX-512 in norm_avx512.cc)
// Shifted moments of `blocks` runs of `len` contiguous floats, run b at x + b·stride:
// *s1 = Σ(x - shift), *s2 = Σ(x - shift)² (overwritten).
void norm_moments_runs(double* s1, double* s2, const float* x, int64_t blocks, int64_t len, int64_t stride,
                       float shift);
// Column form: rows × cols (row r at x + r·stride); s1[j] += Σ_r (x[r,j] - shift[j]), s2[j] likewise.
void norm_moments_cols(double* s1, double* s2, const float* x, int64_t rows, int64_t cols, int64_t stride,
                       const float* shift);
// Backward reductions over runs: *sdy = Σdy, *sdyx = Σdy·(x - m), *sx = Σ(x - m) (overwritten).
// sx measures how far the float32 mean m is from the exact mean of the values (|mean| >> std).
void norm_dot_runs(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t blocks,
                   int64_t len, int64_t stride, float m);
// Column form: sdy[j] += Σ_r dy[r,j], sdyx[j] += Σ_r dy[r,j]·(x[r,j] - m[j]), sx[j] += Σ_r (x[r,j] - m[j]).
void norm_dot_cols(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t rows,
                   int64_t cols, int64_t stride, const float* m);
// y = (x - m)·a + b over len values (constant coefficients).
void norm_affine(float* y, const float* x, int64_t len, float m, float a, float b);
// Per-column coefficients over rows (row r at +r·stride): y[r,j] = (x[r,j] - m[j])·a[j] + b[j].
void norm_affine_cols(float* y, const float* x, int64_t rows, int64_t cols, int64_t stride, const float* m,
                      const float* a, const float* b);
// dx = k1·dy + k2·(x - m) + k3 over len values.
void norm_bwd(float* dx, const float* dy, const float* x, int64_t len, float m, float k1, float k2, float k3);
// Per-column: dx[r,j] = k1[j]·dy[r,j] + k2[j]·(x[r,j] - m[j]) + k3[j].
void norm_bwd_cols(float* dx, const float* dy, const float* x, int64_t rows, int64_t cols, int64_t stride,
                   const float* m, const float* k1, const float* k2, const float* k3);
// Rows with per-element γ, β (inner == 1, LayerNorm): y[j] = ((x[j] - m) - lo)·r·γ[j] + β[j] (null: 1, 0).
void norm_row_affine(float* y, const float* x, int64_t len, float m, float lo, float r, const float* gamma,
                     const float* beta);
// *sg = Σ γ[j]·dy[j], *sgx = Σ γ[j]·dy[j]·(x[j] - m), *sx = Σ (x[j] - m) (overwritten; γ null: 1).
void norm_row_dot(double* sg, double* sgx, double* sx, const float* dy, const float* x, const float* gamma,
                  int64_t len, float m);
// dx[j] = r·γ[j]·dy[j] + k2·(x[j] - m) + k3.
void norm_row_bwd(float* dx, const float* dy, const float* x, const float* gamma, int64_t len, float m, float r,
                  float k2, float k3);
// accb[j] += dy[j], accg[j] += r·dy[j]·((x[j] - m) - delta).
void norm_row_param(double* accb, double* accg, const float* dy, const float* x, int64_t len, float m, double r,
                    double delta);

#ifdef MB_HAVE_AVX2_TU
void norm_moments_runs_avx2(double* s1, double* s2, const float* x, int64_t blocks, int64_t len, int64_t stride,
                            float shift);
void norm_moments_cols_avx2(double* s1, double* s2, const float* x, int64_t rows, int64_t cols, int64_t stride,
                            const float* shift);
void norm_dot_runs_avx2(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t blocks,
                        int64_t len, int64_t stride, float m);
void norm_dot_cols_avx2(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t rows,
                        int64_t cols, int64_t stride, const float* m);
void norm_affine_avx2(float* y, const float* x, int64_t len, float m, float a, float b);
void norm_affine_cols_avx2(float* y, const float* x, int64_t rows, int64_t cols, int64_t stride, const float* m,
                           const float* a, const float* b);
void norm_bwd_avx2(float* dx, const float* dy, const float* x, int64_t len, float m, float k1, float k2, float k3);
void norm_bwd_cols_avx2(float* dx, const float* dy, const float* x, int64_t rows, int64_t cols, int64_t stride,
                        const float* m, const float* k1, const float* k2, const float* k3);
void norm_row_affine_avx2(float* y, const float* x, int64_t len, float m, float lo, float r, const float* gamma,
                          const float* beta);
void norm_row_dot_avx2(double* sg, double* sgx, double* sx, const float* dy, const float* x, const float* gamma,
                       int64_t len, float m);
void norm_row_bwd_avx2(float* dx, const float* dy, const float* x, const float* gamma, int64_t len, float m, float r,
                       float k2, float k3);
void norm_row_param_avx2(double* accb, double* accg, const float* dy, const float* x, int64_t len, float m, double r,
                         double delta);
#endif

#ifdef MB_HAVE_AVX512_TU
// AVX-512 forms of the run primitives (norm_avx512.cc); the column and row forms stay AVX2.
void norm_moments_runs_avx512(double* s1, double* s2, const float* x, int64_t blocks, int64_t len, int64_t stride,
                              float shift);
void norm_dot_runs_avx512(double* sdy, double* sdyx, double* sx, const float* dy, const float* x, int64_t blocks,
                          int64_t len, int64_t stride, float m);
void norm_affine_avx512(float* y, const float* x, int64_t len, float m, float a, float b);
void norm_bwd_avx512(float* dx, const float* dy, const float* x, int64_t len, float m, float k1, float k2, float k3);
#endif

}  // namespace mb
