/**
 * Cross-entropy with per-class weights and/or probability targets (torch.nn.CrossEntropyLoss's
 * `weight` and class-probability targets), label smoothing included. The plain case (class indices,
 * no weight) runs the backend's softmax kernels in losses.ts; this path is plain TypeScript in
 * double precision, one pass for the loss and the gradient.
 *
 * With p = softmax(x), w the class weights (ones when absent) and ε the smoothing:
 *   class indices y:   loss = Σ_i w_{y_i}·[(1−ε)(−log p_{i,y_i}) + (ε/C) Σ_j w_j/w_{y_i}·(−log p_ij)] / Σ_i w_{y_i}
 *   probabilities q:   q' = (1−ε)·q + ε/C,  loss = Σ_i Σ_j w_j q'_ij (−log p_ij) / N
 * and the gradient of each with respect to x.
 */
import type { LabelArray } from './backend/types';

/** Loss and gradient (into dx) for class indices with weights. */
export function weightedClassCe(dx: Float32Array, x: Float32Array, labels: LabelArray, n: number, c: number, weight: Float32Array | null, eps: number): number {
  const logp = new Float64Array(c);
  let total = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) wsum += weight ? weight[labels[i]] : 1;
  for (let i = 0; i < n; i++) {
    const row = i * c;
    logSoftmax(logp, x, row, c);
    const y = labels[i];
    const wy = weight ? weight[y] : 1;
    // d(loss_i)/d(x_ij) = a_i·p_ij − b_ij with a_i = Σ_k coefficient_k, b_ij = coefficient_j
    let a = 0;
    let li = 0;
    for (let j = 0; j < c; j++) {
      const coef = (eps / c) * (weight ? weight[j] : 1) + (j === y ? (1 - eps) * wy : 0);
      li -= coef * logp[j];
      a += coef;
    }
    total += li;
    for (let j = 0; j < c; j++) {
      const coef = (eps / c) * (weight ? weight[j] : 1) + (j === y ? (1 - eps) * wy : 0);
      dx[row + j] = (a * Math.exp(logp[j]) - coef) / wsum;
    }
  }
  return total / wsum;
}

/** Loss and gradient (into dx) for probability targets q [n, c] (weights optional). */
export function probabilityCe(dx: Float32Array, x: Float32Array, q: Float32Array, n: number, c: number, weight: Float32Array | null, eps: number): number {
  const logp = new Float64Array(c);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * c;
    logSoftmax(logp, x, row, c);
    let a = 0;
    for (let j = 0; j < c; j++) {
      const coef = (weight ? weight[j] : 1) * ((1 - eps) * q[row + j] + eps / c);
      total -= coef * logp[j];
      a += coef;
    }
    for (let j = 0; j < c; j++) {
      const coef = (weight ? weight[j] : 1) * ((1 - eps) * q[row + j] + eps / c);
      dx[row + j] = (a * Math.exp(logp[j]) - coef) / n;
    }
  }
  return total / n;
}

function logSoftmax(out: Float64Array, x: Float32Array, row: number, c: number): void {
  let mx = -Infinity;
  for (let j = 0; j < c; j++) mx = Math.max(mx, x[row + j]);
  let se = 0;
  for (let j = 0; j < c; j++) se += Math.exp(x[row + j] - mx);
  const lse = mx + Math.log(se);
  for (let j = 0; j < c; j++) out[j] = x[row + j] - lse;
}
