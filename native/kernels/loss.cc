// loss.cc — softmax cross-entropy (baseline x86-64 code; the exps dominate only for tiny batches).
#include "loss.h"

#include <cmath>

#include "cpu.h"

namespace mb {

namespace {

constexpr int64_t kParallelMin = 16384;  // logits below which one thread does the whole batch
constexpr int kBlocks = 64;              // fixed split of the rows for the loss reduction

// One row: probs = softmax(x), returns logsumexp(x) - x[label] in double.
inline double row_forward(float* p, const float* x, int64_t label, int64_t k) {
  float m = x[0];
  for (int64_t j = 1; j < k; j++) m = x[j] > m ? x[j] : m;
  if (!std::isfinite(m)) m = std::isnan(m) ? m : 0.0f;  // all -inf or a +inf: let the NaNs speak
  double s = 0.0;
  for (int64_t j = 0; j < k; j++) {
    const float e = std::exp(x[j] - m);  // <= 1: no overflow; tiny ones underflow harmlessly
    p[j] = e;
    s += e;
  }
  const float inv = (float)(1.0 / s);
  for (int64_t j = 0; j < k; j++) p[j] *= inv;
  return std::log(s) + ((double)m - (double)x[label]);
}

}  // namespace

template <class L>
double softmax_xent_forward(float* probs, const float* logits, const L* labels, int64_t n, int64_t k) {
  if (n <= 0) return 0.0;
  const int64_t blocks = n < kBlocks ? n : kBlocks;
  double part[kBlocks];
  auto block = [&](int64_t b) {
    const int64_t r0 = n * b / blocks, r1 = n * (b + 1) / blocks;
    double s = 0.0;
    for (int64_t r = r0; r < r1; r++) s += row_forward(probs + r * k, logits + r * k, (int64_t)labels[r], k);
    part[b] = s;
  };
#ifdef _OPENMP
  if (n * k > kParallelMin && num_threads() > 1) {
#pragma omp parallel for schedule(static) num_threads(num_threads())
    for (int64_t b = 0; b < blocks; b++) block(b);
  } else
#endif
  {
    for (int64_t b = 0; b < blocks; b++) block(b);
  }
  double total = 0.0;
  for (int64_t b = 0; b < blocks; b++) total += part[b];
  return total / (double)n;
}

template <class L>
void softmax_xent_backward(float* dlogits, const float* probs, const L* labels, int64_t n, int64_t k, float scale) {
  auto rows = [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      float* d = dlogits + r * k;
      const float* p = probs + r * k;
      for (int64_t j = 0; j < k; j++) d[j] = p[j] * scale;
      d[labels[r]] = (p[labels[r]] - 1.0f) * scale;
    }
  };
#ifdef _OPENMP
  if (n * k > kParallelMin && num_threads() > 1 && n > 1) {
#pragma omp parallel for schedule(static) num_threads(num_threads())
    for (int64_t r = 0; r < n; r++) rows(r, r + 1);
    return;
  }
#endif
  rows(0, n);
}

template double softmax_xent_forward<int32_t>(float*, const float*, const int32_t*, int64_t, int64_t);
template double softmax_xent_forward<uint8_t>(float*, const float*, const uint8_t*, int64_t, int64_t);
template void softmax_xent_backward<int32_t>(float*, const float*, const int32_t*, int64_t, int64_t, float);
template void softmax_xent_backward<uint8_t>(float*, const float*, const uint8_t*, int64_t, int64_t, float);

}  // namespace mb
