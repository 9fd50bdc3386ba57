// conv.cc — im2col/col2im and the convolution drivers around mb::sgemm (see conv.h).
#include "conv.h"

#include <algorithm>
#include <cstring>

#include "cpu.h"
#include "gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

namespace {

inline int64_t kdim(const Conv2dShape& p) { return p.cin * p.kh * p.kw; }
inline int64_t pdim(const Conv2dShape& p) { return p.oh * p.ow; }
inline size_t cols_size(const Conv2dShape& p) { return conv2d_is_pointwise(p) ? 0 : (size_t)kdim(p) * pdim(p); }

// The output columns ow whose input column ow·sw + off lies inside [0, w): [lo, hi).
inline void valid_range(int64_t off, int64_t stride, int64_t w, int64_t ow, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = (w - 1 - off) < 0 ? 0 : (w - 1 - off) / stride + 1;
  lo = std::min(lo, ow);
  hi = std::min(hi, ow);
  if (hi < lo) hi = lo;
}

// im2col of one channel: xc [h, w] into its kh·kw rows of cols (each [oh·ow]).
void im2col_channel(float* cols, const float* xc, const Conv2dShape& p) {
  const int64_t P = pdim(p), OW = p.ow;
  for (int64_t ki = 0; ki < p.kh; ki++)
    for (int64_t kj = 0; kj < p.kw; kj++) {
      float* row = cols + (ki * p.kw + kj) * P;
      const int64_t off = kj * p.dw - p.pw;  // input column of output column ow: ow·sw + off
      int64_t lo, hi;
      valid_range(off, p.sw, p.w, OW, lo, hi);
      for (int64_t oh = 0; oh < p.oh; oh++) {
        float* r = row + oh * OW;
        const int64_t ih = oh * p.sh - p.ph + ki * p.dh;
        if (ih < 0 || ih >= p.h) {
          std::memset(r, 0, sizeof(float) * OW);
          continue;
        }
        if (lo > 0) std::memset(r, 0, sizeof(float) * lo);
        const float* src = xc + ih * p.w + (off + lo * p.sw);  // input of output column lo
        if (p.sw == 1) {
          std::memcpy(r + lo, src, sizeof(float) * (hi - lo));
        } else {
          const int64_t s = p.sw;
          for (int64_t o = lo; o < hi; o++) r[o] = src[(o - lo) * s];
        }
        if (hi < OW) std::memset(r + hi, 0, sizeof(float) * (OW - hi));
      }
    }
}

// col2im of one channel: the channel's kh·kw rows of cols summed into xc [h, w] (overwritten).
void col2im_channel(float* xc, const float* cols, const Conv2dShape& p) {
  const int64_t P = pdim(p), OW = p.ow;
  std::memset(xc, 0, sizeof(float) * p.h * p.w);
  for (int64_t ki = 0; ki < p.kh; ki++)
    for (int64_t kj = 0; kj < p.kw; kj++) {
      const float* row = cols + (ki * p.kw + kj) * P;
      const int64_t off = kj * p.dw - p.pw;
      int64_t lo, hi;
      valid_range(off, p.sw, p.w, OW, lo, hi);
      if (hi <= lo) continue;
      for (int64_t oh = 0; oh < p.oh; oh++) {
        const int64_t ih = oh * p.sh - p.ph + ki * p.dh;
        if (ih < 0 || ih >= p.h) continue;
        const float* r = row + oh * OW;
        float* dst = xc + ih * p.w + (off + lo * p.sw);
        if (p.sw == 1) {
          const int64_t len = hi - lo;
          const float* rr = r + lo;
          for (int64_t o = 0; o < len; o++) dst[o] += rr[o];
        } else {
          const int64_t s = p.sw;
          for (int64_t o = lo; o < hi; o++) dst[(o - lo) * s] += r[o];
        }
      }
    }
}

// im2col / col2im of one image over `nthreads` threads (channels split statically).
void im2col_par(float* cols, const float* x, const Conv2dShape& p, int nthreads) {
  const int64_t rows = p.kh * p.kw * pdim(p), plane = p.h * p.w;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1 && p.cin > 1)
#else
  (void)nthreads;
#endif
  for (int64_t c = 0; c < p.cin; c++) im2col_channel(cols + c * rows, x + c * plane, p);
}

void col2im_par(float* dx, const float* cols, const Conv2dShape& p, int nthreads) {
  const int64_t rows = p.kh * p.kw * pdim(p), plane = p.h * p.w;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1 && p.cin > 1)
#else
  (void)nthreads;
#endif
  for (int64_t c = 0; c < p.cin; c++) col2im_channel(dx + c * plane, cols + c * rows, p);
}

// Threads to split the batch over, or 1 for the sample-by-sample path (GEMM parallel inside).
// The batch path needs an even split (or enough samples that the remainder does not matter) and
// `per_thread` floats of workspace for each of its threads.
int batch_threads(const Conv2dShape& p, int nthreads, size_t ws_len, size_t per_thread) {
  if (nthreads <= 1 || p.n < 2) return 1;
  int64_t tb = std::min<int64_t>(nthreads, p.n);
  if (!(p.n % tb == 0 || p.n >= 4 * tb)) return 1;
  if (per_thread > 0) tb = std::min<int64_t>(tb, (int64_t)(ws_len / per_thread));
  return tb >= 2 ? (int)tb : 1;
}

// This thread's id and the team size (OpenMP may grant fewer threads than asked for: chunks of the
// batch are then taken round-robin, each still with its own workspace slot).
inline int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}
inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

// One sample's forward: y_n [Co, P] from x_n [Ci, H, W]. cols: [K, P] scratch (unused if pointwise).
void forward_one(float* yn, const float* xn, const float* w, const float* bias, float* cols, const Conv2dShape& p,
                 int nthreads) {
  const int64_t K = kdim(p), P = pdim(p);
  const float* B = xn;
  if (!conv2d_is_pointwise(p)) {
    im2col_par(cols, xn, p, nthreads == 0 ? num_threads() : nthreads);
    B = cols;
  }
  if (bias)
    for (int64_t co = 0; co < p.cout; co++) std::fill(yn + co * P, yn + (co + 1) * P, bias[co]);
  sgemm(false, false, p.cout, P, K, 1.f, w, K, B, P, bias ? 1.f : 0.f, yn, P, nthreads);
}

// One sample's backward: dwacc [Co, K] = beta·dwacc + dY_n · cols_nᵀ, and dx_n (if wanted).
void backward_one(float* dxn, float* dwacc, float beta, const float* xn, const float* w, const float* dyn,
                  float* cols, const Conv2dShape& p, int nthreads) {
  const int64_t K = kdim(p), P = pdim(p);
  const bool pw = conv2d_is_pointwise(p);
  const int par = nthreads == 0 ? num_threads() : nthreads;
  const float* B = xn;
  if (!pw) {
    im2col_par(cols, xn, p, par);
    B = cols;
  }
  sgemm(false, true, p.cout, K, P, 1.f, dyn, P, B, P, beta, dwacc, K, nthreads);
  if (!dxn) return;
  if (pw) {
    sgemm(true, false, K, P, p.cout, 1.f, w, K, dyn, P, 0.f, dxn, P, nthreads);
  } else {
    sgemm(true, false, K, P, p.cout, 1.f, w, K, dyn, P, 0.f, cols, P, nthreads);
    col2im_par(dxn, cols, p, par);
  }
}

}  // namespace

bool conv2d_is_pointwise(const Conv2dShape& p) {
  return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.ph == 0 && p.pw == 0;
}

size_t conv2d_workspace_min(const Conv2dShape& p) { return cols_size(p); }

size_t conv2d_workspace_size(const Conv2dShape& p, int nthreads) {
  const size_t cs = cols_size(p), dwsz = (size_t)p.cout * kdim(p);
  const int tb = batch_threads(p, nthreads, (size_t)-1, cs + dwsz);
  return tb >= 2 ? (size_t)tb * (cs + dwsz) : cs;
}

void im2col(float* cols, const float* x, const Conv2dShape& p) { im2col_par(cols, x, p, num_threads()); }

void col2im(float* dx, const float* cols, const Conv2dShape& p) { col2im_par(dx, cols, p, num_threads()); }

void conv2d_forward(float* y, const float* x, const float* w, const float* bias, float* ws, size_t ws_len,
                    const Conv2dShape& p) {
  const int64_t xs = p.cin * p.h * p.w, ys = p.cout * pdim(p);
  const size_t cs = cols_size(p);
  const int tb = batch_threads(p, num_threads(), ws_len, cs);
  if (tb <= 1) {
    for (int64_t s = 0; s < p.n; s++) forward_one(y + s * ys, x + s * xs, w, bias, ws, p, 0);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(tb)
#endif
  {
    for (int t = thread_id(); t < tb; t += team_size()) {
      const int64_t n0 = p.n * t / tb, n1 = p.n * (t + 1) / tb;
      float* cols = ws + t * cs;
      for (int64_t s = n0; s < n1; s++) forward_one(y + s * ys, x + s * xs, w, bias, cols, p, 1);
    }
  }
}

void conv2d_backward(float* dx, float* dw, float* db, const float* x, const float* w, const float* dy, float* ws,
                     size_t ws_len, const Conv2dShape& p) {
  const int64_t xs = p.cin * p.h * p.w, P = pdim(p), ys = p.cout * P, K = kdim(p);
  const int nt = num_threads();

  if (db) {
    // db[co] += Σ_n Σ_p dy[n, co, p]: rows summed in float, samples in double, per channel.
#ifdef _OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1 && p.cout > 1)
#endif
    for (int64_t co = 0; co < p.cout; co++) {
      double acc = 0;
      for (int64_t s = 0; s < p.n; s++) {
        const float* r = dy + s * ys + co * P;
        float sum = 0.f;
        for (int64_t i = 0; i < P; i++) sum += r[i];
        acc += sum;
      }
      db[co] = (float)(db[co] + acc);
    }
  }

  const size_t cs = cols_size(p), dwsz = (size_t)p.cout * K;
  const int tb = batch_threads(p, nt, ws_len, cs + dwsz);
  if (tb <= 1) {
    for (int64_t s = 0; s < p.n; s++)
      backward_one(dx ? dx + s * xs : nullptr, dw, 1.f, x + s * xs, w, dy + s * ys, ws, p, 0);
    return;
  }
  // Batch split over tb threads; thread t sums its samples' dW into its own partial, and the partials
  // are added to dw in thread order afterwards (the same split every call: deterministic).
#ifdef _OPENMP
#pragma omp parallel num_threads(tb)
#endif
  {
    for (int t = thread_id(); t < tb; t += team_size()) {
      const int64_t n0 = p.n * t / tb, n1 = p.n * (t + 1) / tb;  // n1 > n0 since tb <= n
      float* cols = ws + t * (cs + dwsz);
      float* part = cols + cs;
      for (int64_t s = n0; s < n1; s++)
        backward_one(dx ? dx + s * xs : nullptr, part, s == n0 ? 0.f : 1.f, x + s * xs, w, dy + s * ys, cols, p, 1);
    }
#ifdef _OPENMP
#pragma omp barrier
#pragma omp for schedule(static)
#endif
    for (int64_t i = 0; i < (int64_t)dwsz; i++) {
      float acc = dw[i];
      for (int u = 0; u < tb; u++) acc += ws[u * (cs + dwsz) + cs + i];
      dw[i] = acc;
    }
  }
}

}  // namespace mb
