/**
 * Per-feature running mean and variance over batches (Chan, Golub and LeVeque's pairwise update,
 * in float64): what StandardScaler.partialFit and MeanCenter.partialFit accumulate, so data that
 * does not fit in memory can be standardized batch by batch. The result equals one pass over all
 * rows up to rounding.
 */
export class RunningMoments {
  count = 0;
  readonly mean: Float64Array;
  private readonly m2: Float64Array;

  constructor(readonly d: number) {
    this.mean = new Float64Array(d);
    this.m2 = new Float64Array(d);
  }

  /** Adds n rows of d values (row-major). */
  add(x: ArrayLike<number>, n: number): void {
    const d = this.d;
    const bm = new Float64Array(d);
    const bm2 = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) bm[j] += x[i * d + j];
    for (let j = 0; j < d; j++) bm[j] /= n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const e = x[i * d + j] - bm[j];
        bm2[j] += e * e;
      }
    }
    const na = this.count, total = na + n;
    for (let j = 0; j < d; j++) {
      const delta = bm[j] - this.mean[j];
      this.mean[j] += (delta * n) / total;
      this.m2[j] += bm2[j] + (delta * delta * na * n) / total;
    }
    this.count = total;
  }

  /** Population variance per feature. */
  variance(): Float64Array {
    return this.m2.map((v) => v / this.count);
  }
}
