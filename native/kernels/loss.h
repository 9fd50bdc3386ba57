// loss.h — softmax cross-entropy over a batch: forward (probabilities + mean loss) and backward.
//
//   probs [n, k] = softmax(logits [n, k]) row by row, after subtracting the row maximum (stable for
//   logits of ±1e4); loss = mean over rows of logsumexp(row) - logits[label], in double precision.
//   dlogits [n, k] = (probs - onehot(labels)) · scale (overwritten; scale = 1/n for the batch mean).
//
// Labels are int32 or uint8 (both instantiated); the glue checks each is in [0, k) before calling.
// Rows are split over the threads in a fixed number of blocks, and the per-block sums are added in
// order, so the loss is the same whatever the thread count.
#pragma once

#include <cstdint>

namespace mb {

template <class L>
double softmax_xent_forward(float* probs, const float* logits, const L* labels, int64_t n, int64_t k);
template <class L>
void softmax_xent_backward(float* dlogits, const float* probs, const L* labels, int64_t n, int64_t k, float scale);

}  // namespace mb
