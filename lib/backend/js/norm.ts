/**
 * Normalization kernels in plain TypeScript: BatchNorm (training, inference, backward) and the
 * GroupNorm family (LayerNorm is n = rows, c = D, inner = 1, groups = 1; InstanceNorm is groups = c).
 *
 * Legend: N batch, C channels, I inner (H·W, or 1 for dense features), G groups, CG = C / G.
 * Tensors are x[N, C, I] row-major. All arithmetic is float64 (JS numbers); the kernels also accept
 * Float64Array buffers, which the tests use for float64 finite-difference gradient checks.
 *
 * Statistics — one routine (`moments`) for every layer: a single pass accumulating
 * s1 = Σ(x − K) and s2 = Σ(x − K)² with the shift K = the set's first value, so |mean| >> std
 * stays exact; mean = K + s1/m, biased var = s2/m − (s1/m)², rstd = 1/sqrt(var + eps).
 */

type Buf = Float32Array;

// Outputs of `moments` (module scratch, no allocation per call): [s1, s2].
const sums = new Float64Array(2);

/**
 * Shifted sums over `blocks` runs of `len` contiguous values, run b starting at off + b·stride.
 * Writes sums[0] = Σ(x − shift), sums[1] = Σ(x − shift)².
 */
function moments(x: Buf, off: number, blocks: number, len: number, stride: number, shift: number): void {
  let s1 = 0;
  let s2 = 0;
  for (let b = 0, base = off; b < blocks; b++, base += stride) {
    const end = base + len;
    for (let k = base; k < end; k++) {
      const d = x[k] - shift;
      s1 += d;
      s2 += d * d;
    }
  }
  sums[0] = s1;
  sums[1] = s2;
}

/** Mean (as K + s1/m) and rstd from shifted sums; var is written to `statOut`: [mean, var, rstd]. */
const statOut = new Float64Array(3);
function finish(s1: number, s2: number, count: number, shift: number, eps: number): void {
  const d = s1 / count;
  const v = Math.max(0, s2 / count - d * d);
  statOut[0] = shift + d;
  statOut[1] = v;
  statOut[2] = 1 / Math.sqrt(v + eps);
}

/** A value as the native glue prints it in error messages. */
function describe(v: unknown): string {
  return typeof v === 'number' ? `${Number.isNaN(v) ? 'NaN' : String(v)} of type number` : String(v);
}

function checkEps(eps: number): void {
  if (!(typeof eps === 'number' && eps > 0 && Number.isFinite(eps))) {
    throw new RangeError(`Expected number > 0 for eps but received ${describe(eps)}`);
  }
}

function checkTraining(n: number, inner: number): void {
  if (n * inner < 2) {
    throw new RangeError(
      `Expected more than 1 value per channel in training mode for n·inner but received ${n * inner}`,
    );
  }
}

// ================================================================================ BatchNorm

/** Adds Σdy, Σdy·(x − mu) and Σ(x − mu) over [base, end) to acc[0], acc[1], acc[2]. */
function addSums(acc: Float64Array, dy: Float32Array, x: Float32Array, base: number, end: number, mu: number): void {
  let sdy = acc[0];
  let sdyx = acc[1];
  let sx = acc[2];
  for (let k = base; k < end; k++) {
    const g = dy[k];
    const d = x[k] - mu;
    sdy += g;
    sdyx += g * d;
    sx += d;
  }
  acc[0] = sdy;
  acc[1] = sdyx;
  acc[2] = sx;
}

export function batchNormForward(
  y: Float32Array, mean: Float32Array, variance: Float32Array, rstd: Float32Array,
  x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null,
  n: number, c: number, inner: number, eps: number,
): void {
  checkEps(eps);
  checkTraining(n, inner);
  const count = n * inner;
  if (inner === 1) {
    // x is [n, c]: walk rows (contiguous) and accumulate per-column shifted sums.
    const s1 = new Float64Array(c);
    const s2 = new Float64Array(c);
    for (let r = 0, o = 0; r < n; r++) {
      for (let j = 0; j < c; j++, o++) {
        const d = x[o] - x[j];
        s1[j] += d;
        s2[j] += d * d;
      }
    }
    const mu = s1; // reused in place: mean, then the scale a = rstd·gamma in s2
    for (let j = 0; j < c; j++) {
      finish(s1[j], s2[j], count, x[j], eps);
      mean[j] = statOut[0];
      variance[j] = statOut[1];
      rstd[j] = statOut[2];
      mu[j] = statOut[0];
      s2[j] = statOut[2] * (gamma ? gamma[j] : 1);
    }
    for (let r = 0, o = 0; r < n; r++) {
      for (let j = 0; j < c; j++, o++) y[o] = (x[o] - mu[j]) * s2[j] + (beta ? beta[j] : 0);
    }
    return;
  }
  const stride = c * inner;
  for (let ch = 0; ch < c; ch++) {
    const off = ch * inner;
    moments(x, off, n, inner, stride, x[off]);
    finish(sums[0], sums[1], count, x[off], eps);
    const mu = statOut[0];
    mean[ch] = mu;
    variance[ch] = statOut[1];
    rstd[ch] = statOut[2];
    const a = statOut[2] * (gamma ? gamma[ch] : 1);
    const b = beta ? beta[ch] : 0;
    for (let i = 0, base = off; i < n; i++, base += stride) {
      const end = base + inner;
      for (let k = base; k < end; k++) y[k] = (x[k] - mu) * a + b;
    }
  }
}

export function batchNormInference(
  y: Float32Array, x: Float32Array, runningMean: Float32Array, runningVar: Float32Array,
  gamma: Float32Array | null, beta: Float32Array | null, n: number, c: number, inner: number, eps: number,
): void {
  checkEps(eps);
  for (let i = 0, o = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const mu = runningMean[ch];
      const a = (gamma ? gamma[ch] : 1) / Math.sqrt(runningVar[ch] + eps);
      const b = beta ? beta[ch] : 0;
      const end = o + inner;
      for (; o < end; o++) y[o] = (x[o] - mu) * a + b;
    }
  }
}

/*
 * Backward, per channel with m = N·I values, x̂ = (x − mean)·rstd, y = γ·x̂ + β:
 *   dβ = Σ dy,   dγ = Σ dy·x̂
 *   dx = rstd · (γ·dy − mean(γ·dy) − x̂ · mean(γ·dy·x̂))
 *     γ·dy·rstd          : the direct path through x̂
 *     − rstd·mean(γ·dy)  : through the mean (each x moves it by 1/m)
 *     − rstd·x̂·mean(γ·dy·x̂): through rstd (∂rstd/∂x_i = −rstd³ (x_i − mean)/m)
 * Two reductions (Σdy, Σdy·x̂), then one elementwise pass dx = k1·dy + k2·(x − mean) + k3.
 * The mean arrives rounded to float32; the reduction pass also measures δ = Σ(x − mean_f)/m, the
 * distance to the exact mean, and re-centres on mean_f + δ (Σdy·(x − mean) = Σdy·(x − mean_f) − δ·Σdy;
 * the −k2·δ folds into k3), so |mean| >> std keeps Σdx = 0 and Σdx·x̂ = 0.
 */
export function batchNormBackward(
  dx: Float32Array, dgamma: Float32Array | null, dbeta: Float32Array | null,
  dy: Float32Array, x: Float32Array, mean: Float32Array, rstd: Float32Array, gamma: Float32Array | null,
  n: number, c: number, inner: number,
): void {
  checkTraining(n, inner);
  const count = n * inner;
  if (inner === 1) {
    const sdy = new Float64Array(c);
    const sdyx = new Float64Array(c); // Σ dy·(x − mean_f)
    const sx = new Float64Array(c); // Σ (x − mean_f)
    for (let r = 0, o = 0; r < n; r++) {
      for (let j = 0; j < c; j++, o++) {
        const g = dy[o];
        const d = x[o] - mean[j];
        sdy[j] += g;
        sdyx[j] += g * d;
        sx[j] += d;
      }
    }
    // Turn the sums into the coefficients of dx = k1·dy + k2·(x − mean_f) + k3, in place.
    for (let j = 0; j < c; j++) {
      const r = rstd[j];
      const g = gamma ? gamma[j] : 1;
      const delta = sx[j] / count;
      const sdyxc = sdyx[j] - delta * sdy[j]; // Σ dy·(x − exact mean)
      if (dbeta) dbeta[j] += sdy[j];
      if (dgamma) dgamma[j] += r * sdyxc;
      const k2 = (-g * r * r * r * sdyxc) / count; // −γ·rstd · rstd·mean(dy·x̂)
      const k3 = (-g * r * sdy[j]) / count - k2 * delta; // −γ·rstd·mean(dy), re-centred
      sdy[j] = k3;
      sdyx[j] = k2;
    }
    for (let r = 0, o = 0; r < n; r++) {
      for (let j = 0; j < c; j++, o++) {
        dx[o] = (gamma ? gamma[j] : 1) * rstd[j] * dy[o] + sdyx[j] * (x[o] - mean[j]) + sdy[j];
      }
    }
    return;
  }
  const stride = c * inner;
  const acc = new Float64Array(3);
  for (let ch = 0; ch < c; ch++) {
    const off = ch * inner;
    const mu = mean[ch];
    acc.fill(0);
    for (let i = 0, base = off; i < n; i++, base += stride) addSums(acc, dy, x, base, base + inner, mu);
    const sdy = acc[0];
    let sdyx = acc[1];
    const sx = acc[2];
    const r = rstd[ch];
    const g = gamma ? gamma[ch] : 1;
    const delta = sx / count;
    sdyx -= delta * sdy; // re-centred on the exact mean
    if (dbeta) dbeta[ch] += sdy;
    if (dgamma) dgamma[ch] += r * sdyx;
    const k1 = g * r;
    const k2 = (-g * r * r * r * sdyx) / count;
    const k3 = (-g * r * sdy) / count - k2 * delta;
    for (let i = 0, base = off; i < n; i++, base += stride) {
      const end = base + inner;
      for (let k = base; k < end; k++) dx[k] = k1 * dy[k] + k2 * (x[k] - mu) + k3;
    }
  }
}

// ================================================================================ GroupNorm
// Group (i, g) is one contiguous run of CG·I values starting at (i·C + g·CG)·I.

function checkGroups(c: number, groups: number): void {
  if (!(Number.isInteger(groups) && groups >= 1 && c % groups === 0)) {
    throw new RangeError(`Expected a divisor of c = ${c} for groups but received ${describe(groups)}`);
  }
}

export function groupNormForward(
  y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array,
  gamma: Float32Array | null, beta: Float32Array | null,
  n: number, c: number, inner: number, groups: number, eps: number,
): void {
  checkEps(eps);
  checkGroups(c, groups);
  const cg = c / groups;
  const len = cg * inner;
  for (let ig = 0; ig < n * groups; ig++) {
    const c0 = (ig % groups) * cg;
    const off = Math.floor(ig / groups) * c * inner + c0 * inner;
    moments(x, off, 1, len, len, x[off]);
    finish(sums[0], sums[1], len, x[off], eps);
    const mu = statOut[0];
    const r = statOut[2];
    mean[ig] = mu;
    rstd[ig] = r;
    for (let cc = 0, base = off; cc < cg; cc++, base += inner) {
      const a = r * (gamma ? gamma[c0 + cc] : 1);
      const b = beta ? beta[c0 + cc] : 0;
      const end = base + inner;
      for (let k = base; k < end; k++) y[k] = (x[k] - mu) * a + b;
    }
  }
}

/*
 * Backward for group (i, g) with M = CG·I values, x̂ = (x − mean)·rstd, y_c = γ_c·x̂ + β_c:
 *   dx = rstd · (γ_c·dy − A − x̂·B),  A = mean over the group of γ·dy,  B = mean of γ·dy·x̂
 *   (the same three paths as BatchNorm — direct, through the mean, through rstd — with γ varying
 *    per channel inside the group, so the means weight each value by its channel's γ_c)
 *   dβ_c += Σ_i Σ dy,   dγ_c += Σ_i Σ dy·x̂
 * The float32 mean is re-centred on the exact one as in BatchNorm (δ over the whole group).
 */
export function groupNormBackward(
  dx: Float32Array, dgamma: Float32Array | null, dbeta: Float32Array | null,
  dy: Float32Array, x: Float32Array, mean: Float32Array, rstd: Float32Array, gamma: Float32Array | null,
  n: number, c: number, inner: number, groups: number,
): void {
  checkGroups(c, groups);
  const cg = c / groups;
  const len = cg * inner;
  const accG = dgamma ? new Float64Array(c) : null;
  const accB = dbeta ? new Float64Array(c) : null;
  const chDy = new Float64Array(cg); // per-channel Σdy and Σdy·(x − mean_f) of the current group
  const chDyx = new Float64Array(cg);
  const acc = new Float64Array(3);
  for (let ig = 0; ig < n * groups; ig++) {
    const c0 = (ig % groups) * cg;
    const off = Math.floor(ig / groups) * c * inner + c0 * inner;
    const mu = mean[ig];
    const r = rstd[ig];
    let ga = 0; // Σ γ·dy
    let gb = 0; // Σ γ·dy·(x − mean_f)
    acc[2] = 0; // Σ (x − mean_f) over the whole group
    for (let cc = 0, base = off; cc < cg; cc++, base += inner) {
      acc[0] = 0;
      acc[1] = 0;
      addSums(acc, dy, x, base, base + inner, mu);
      const sdy = acc[0], sdyx = acc[1];
      const gm = gamma ? gamma[c0 + cc] : 1;
      ga += gm * sdy;
      gb += gm * sdyx;
      chDy[cc] = sdy;
      chDyx[cc] = sdyx;
    }
    const delta = acc[2] / len;
    gb -= delta * ga; // re-centred on the exact mean
    for (let cc = 0; cc < cg; cc++) {
      if (accB) accB[c0 + cc] += chDy[cc];
      if (accG) accG[c0 + cc] += r * (chDyx[cc] - delta * chDy[cc]);
    }
    // dx = k1_c·dy + k2·(x − mean) + k3 with k1_c = γ_c·rstd, k2 = −rstd·B·rstd, k3 = −rstd·A (re-centred).
    const k2 = (-r * r * r * gb) / len;
    const k3 = (-r * ga) / len - k2 * delta;
    for (let cc = 0, base = off; cc < cg; cc++, base += inner) {
      const k1 = (gamma ? gamma[c0 + cc] : 1) * r;
      const end = base + inner;
      for (let k = base; k < end; k++) dx[k] = k1 * dy[k] + k2 * (x[k] - mu) + k3;
    }
  }
  for (let ch = 0; ch < c; ch++) {
    if (dgamma && accG) dgamma[ch] += accG[ch];
    if (dbeta && accB) dbeta[ch] += accB[ch];
  }
}
