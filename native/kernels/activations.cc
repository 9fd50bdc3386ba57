// activations.cc — dispatch, scalar references, maxout, bias add (baseline x86-64 code).
#include "activations.h"

#include <cmath>
#include <cstring>

#include "cpu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace mb {

namespace {

// Outputs of at least this many floats (16 MB) are written with non-temporal stores on the AVX2
// path: they cannot stay in cache anyway, and streaming skips the read-for-ownership of y.
constexpr int64_t kStreamMin = int64_t(4) << 20;

inline float sigmoid1(float x) {
  const float e = std::exp(-std::fabs(x));  // in (0, 1]: no overflow
  const float s = 1.0f / (1.0f + e);
  return x >= 0.0f ? s : e * s;  // e / (1 + e) for x < 0 keeps the relative precision of tiny results
}

// Runs body(begin, end) over [0, n) in static chunks of whole 64-byte lines, one per thread; each
// item streams `per` floats (small work runs on the calling thread, see threads_for).
template <class Body>
void for_chunks(int64_t n, Body body, int64_t per = 1) {
#ifdef _OPENMP
  const int nt = threads_for(n * per, kStreamGrain);
  if (nt > 1) {
    const int64_t per = ((n + nt - 1) / nt + 15) & ~int64_t(15);
#pragma omp parallel for schedule(static, 1) num_threads(nt)
    for (int t = 0; t < nt; t++) {
      const int64_t b = (int64_t)t * per, e = b + per < n ? b + per : n;
      if (b < e) body(b, e);
    }
    return;
  }
#endif
  body(0, n);
}

}  // namespace

void activation_forward_ref(Act kind, float* y, const float* x, int64_t n, float alpha) {
  switch (kind) {
    case Act::Relu:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
      break;
    case Act::LeakyRelu:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];
      break;
    case Act::Elu:
      for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * std::expm1(x[i]);
      break;
    case Act::Sigmoid:
      for (int64_t i = 0; i < n; i++) y[i] = sigmoid1(x[i]);
      break;
    case Act::Tanh:
      for (int64_t i = 0; i < n; i++) y[i] = std::tanh(x[i]);
      break;
  }
}

void activation_backward_ref(Act kind, float* dx, const float* x, const float* y, const float* dy, int64_t n,
                             float alpha) {
  switch (kind) {
    case Act::Relu:
      for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
      break;
    case Act::LeakyRelu:
      for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
      break;
    case Act::Elu:
      for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + alpha);
      break;
    case Act::Sigmoid:
      for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
      break;
    case Act::Tanh:
      for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      break;
  }
}

void activation_forward(Act kind, float* y, const float* x, int64_t n, float alpha) {
  if (n <= 0) return;
#ifdef MB_HAVE_AVX2_TU
  if (simd_level() >= Simd::Avx2) {
    const bool stream = n >= kStreamMin && y != x;
    for_chunks(n, [&](int64_t b, int64_t e) { activation_forward_avx2(kind, y + b, x + b, e - b, alpha, stream); });
    return;
  }
#endif
  for_chunks(n, [&](int64_t b, int64_t e) { activation_forward_ref(kind, y + b, x + b, e - b, alpha); });
}

void activation_backward(Act kind, float* dx, const float* x, const float* y, const float* dy, int64_t n,
                         float alpha) {
  if (n <= 0) return;
#ifdef MB_HAVE_AVX2_TU
  if (simd_level() >= Simd::Avx2) {
    for_chunks(n, [&](int64_t b, int64_t e) {
      activation_backward_avx2(kind, dx + b, x + b, y + b, dy + b, e - b, alpha);
    });
    return;
  }
#endif
  for_chunks(n, [&](int64_t b, int64_t e) {
    activation_backward_ref(kind, dx + b, x + b, y + b, dy + b, e - b, alpha);
  });
}

// ------------------------------------------------------------------------------------------ maxout

void maxout_forward(float* y, int32_t* argmax, const float* z, int64_t rows, int64_t units, int64_t pieces) {
  const int64_t m = rows * units;
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; j++) {
      const float* zj = z + j * pieces;
      float best = zj[0];
      int32_t arg = 0;
      for (int64_t p = 1; p < pieces; p++) {
        const float v = zj[p];
        // v > best, or the first NaN (NaN propagates and keeps its index, as torch.max does).
        if (v > best || (v != v && best == best)) {
          best = v;
          arg = (int32_t)p;
        }
      }
      y[j] = best;
      argmax[j] = arg;
    }
  };
  for_chunks(m, body, pieces);
}

void maxout_backward(float* dz, const int32_t* argmax, const float* dy, int64_t rows, int64_t units,
                     int64_t pieces) {
  const int64_t m = rows * units;
  auto body = [&](int64_t b, int64_t e) {
    std::memset(dz + b * pieces, 0, sizeof(float) * (size_t)((e - b) * pieces));
    for (int64_t j = b; j < e; j++) {
      const int32_t a = argmax[j];
      if (a >= 0 && a < pieces) dz[j * pieces + a] = dy[j];
    }
  };
  for_chunks(m, body, pieces);
}

// -------------------------------------------------------------------------------------------- bias

void bias_add(float* y, const float* bias, int64_t outer, int64_t channels, int64_t inner) {
  const int64_t total = outer * channels * inner;
  if (inner == 1) {
    // Dense: rows of `channels` values; the inner loop over c vectorizes.
    auto body = [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; o++) {
        float* yo = y + o * channels;
        for (int64_t c = 0; c < channels; c++) yo[c] += bias[c];
      }
    };
#ifdef _OPENMP
    const int nt = threads_for(total, kStreamGrain);
    if (nt > 1 && outer > 1) {
#pragma omp parallel for schedule(static) num_threads(nt)
      for (int64_t o = 0; o < outer; o++) body(o, o + 1);
      return;
    }
#endif
    body(0, outer);
    return;
  }
  const int64_t planes = outer * channels;
  auto plane = [&](int64_t p) {
    const float b = bias[p % channels];
    float* yp = y + p * inner;
    for (int64_t i = 0; i < inner; i++) yp[i] += b;
  };
#ifdef _OPENMP
  const int nt = threads_for(total, kStreamGrain);
  if (nt > 1 && planes > 1) {
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t p = 0; p < planes; p++) plane(p);
    return;
  }
#endif
  for (int64_t p = 0; p < planes; p++) plane(p);
}

namespace {

// Sum of n floats: 8 float lanes per block of 1024 (vectorizes without reassociation flags), blocks
// added in double. Fixed order.
double sum_f32(const float* x, int64_t n) {
  double total = 0.0;
  for (int64_t b = 0; b < n; b += 1024) {
    const int64_t e = b + 1024 < n ? b + 1024 : n;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = b;
    for (; i + 8 <= e; i += 8)
      for (int l = 0; l < 8; l++) acc[l] += x[i + l];
    double s = 0.0;
    for (int l = 0; l < 8; l++) s += acc[l];
    for (; i < e; i++) s += x[i];
    total += s;
  }
  return total;
}

}  // namespace

void bias_backward(float* db, const float* dy, int64_t outer, int64_t channels, int64_t inner) {
  const int64_t total = outer * channels * inner;
  if (inner == 1) {
    // Dense: column sums; each task owns a block of 64 channels, accumulated in double over the rows.
    constexpr int64_t CB = 64;
    const int64_t blocks = (channels + CB - 1) / CB;
    auto block = [&](int64_t bi) {
      const int64_t c0 = bi * CB, cn = channels - c0 < CB ? channels - c0 : CB;
      double acc[CB];
      for (int64_t j = 0; j < cn; j++) acc[j] = 0.0;
      for (int64_t o = 0; o < outer; o++) {
        const float* row = dy + o * channels + c0;
        for (int64_t j = 0; j < cn; j++) acc[j] += row[j];
      }
      for (int64_t j = 0; j < cn; j++) db[c0 + j] += (float)acc[j];
    };
#ifdef _OPENMP
    const int nt = threads_for(total, kStreamGrain);
    if (nt > 1 && blocks > 1) {
#pragma omp parallel for schedule(static) num_threads(nt)
      for (int64_t bi = 0; bi < blocks; bi++) block(bi);
      return;
    }
#endif
    for (int64_t bi = 0; bi < blocks; bi++) block(bi);
    return;
  }
  auto channel = [&](int64_t c) {
    double s = 0.0;
    for (int64_t o = 0; o < outer; o++) s += sum_f32(dy + (o * channels + c) * inner, inner);
    db[c] += (float)s;
  };
#ifdef _OPENMP
  const int nt = threads_for(total, kStreamGrain);
  if (nt > 1 && channels > 1) {
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t c = 0; c < channels; c++) channel(c);
    return;
  }
#endif
  for (int64_t c = 0; c < channels; c++) channel(c);
}

void copy_buffer(float* dst, const float* src, int64_t n) {
  if (n <= 0) return;
  for_chunks(n, [&](int64_t b, int64_t e) { std::memcpy(dst + b, src + b, sizeof(float) * (size_t)(e - b)); });
}

}  // namespace mb
