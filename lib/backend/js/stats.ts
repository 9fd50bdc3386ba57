/**
 * Buffer statistics in plain TypeScript (see Backend.tensorStats / paramStats): the same slots,
 * sums in double (JavaScript numbers) in the same element order as the native reference, so the
 * two agree to double rounding.
 */

/** See Backend.tensorStats. */
export function tensorStats(
  out: Float64Array, hist: Float64Array | null, unitNonzero: Int32Array | null, x: Float32Array,
  outer: number, units: number, inner: number, lo: number, hi: number, bins: number,
): void {
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  let zeros = 0;
  let nonFinite = 0;
  let satTanh = 0;
  let satSigmoid = 0;
  const withHist = hist !== null && bins > 0;
  if (hist) hist.fill(0, 0, bins);
  if (unitNonzero) unitNonzero.fill(0, 0, units);
  const scale = bins > 0 && hi > lo ? bins / (hi - lo) : 0;
  const hi99 = Math.fround(0.99);
  const lo01 = Math.fround(0.01);
  let k = 0;
  for (let o = 0; o < outer; o++) {
    for (let u = 0; u < units; u++) {
      let nz = 0;
      for (let i = 0; i < inner; i++, k++) {
        const v = x[k];
        if (v !== 0) nz++;
        if (!Number.isFinite(v)) {
          nonFinite++;
          continue;
        }
        sum += v;
        sumSq += v * v;
        if (v < min) min = v;
        if (v > max) max = v;
        if (v === 0) zeros++;
        if (Math.abs(v) > hi99) satTanh++;
        if (v < lo01 || v > hi99) satSigmoid++;
        if (withHist) {
          const b = (v - lo) * scale;
          const j = b >= 0 ? Math.min(bins - 1, Math.floor(b)) : 0;
          hist![j]++;
        }
      }
      if (unitNonzero) unitNonzero[u] += nz;
    }
  }
  out[0] = sum;
  out[1] = sumSq;
  out[2] = min;
  out[3] = max;
  out[4] = zeros;
  out[5] = nonFinite;
  out[6] = satTanh;
  out[7] = satSigmoid;
}

/** See Backend.paramStats. */
export function paramStats(out: Float64Array, w: Float32Array, prev: Float32Array | null, g: Float32Array | null, n: number): void {
  let ww = 0;
  let dd = 0;
  let gg = 0;
  for (let i = 0; i < n; i++) ww += w[i] * w[i];
  if (prev) {
    for (let i = 0; i < n; i++) {
      const d = w[i] - prev[i];
      dd += d * d;
    }
  }
  if (g) for (let i = 0; i < n; i++) gg += g[i] * g[i];
  out[0] = ww;
  out[1] = dd;
  out[2] = gg;
}
