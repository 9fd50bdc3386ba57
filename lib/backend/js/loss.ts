/**
 * Softmax cross-entropy in plain TypeScript: probabilities after subtracting the row maximum (stable
 * for logits of ±1e4), loss = mean over rows of logsumexp(row) - logits[label], all in double.
 */
import type { LabelArray } from '../types';

function checkLabel(labels: LabelArray, r: number, k: number): number {
  const l = labels[r];
  if (!(l >= 0 && l < k)) throw new RangeError(`Expected integer in [0, ${k}) for labels[${r}] but received ${l}`);
  return l;
}

export function softmaxCrossEntropy(
  probs: Float32Array, logits: Float32Array, labels: LabelArray, n: number, k: number,
): number {
  let total = 0;
  const e = new Float64Array(k); // one row of exponentials, kept in double
  for (let r = 0, base = 0; r < n; r++, base += k) {
    const label = checkLabel(labels, r, k);
    let m = logits[base];
    for (let j = 1; j < k; j++) if (logits[base + j] > m) m = logits[base + j];
    let s = 0;
    for (let j = 0; j < k; j++) s += e[j] = Math.exp(logits[base + j] - m);
    const inv = 1 / s;
    for (let j = 0; j < k; j++) probs[base + j] = e[j] * inv;
    total += Math.log(s) + (m - logits[base + label]);
  }
  return total / n;
}

export function softmaxCrossEntropyBackward(
  dlogits: Float32Array, probs: Float32Array, labels: LabelArray, n: number, k: number, scale: number,
): void {
  for (let r = 0, base = 0; r < n; r++, base += k) {
    const label = checkLabel(labels, r, k);
    for (let j = 0; j < k; j++) dlogits[base + j] = probs[base + j] * scale;
    dlogits[base + label] = (probs[base + label] - 1) * scale;
  }
}
