/** What the normalization layers share: option checks, the single-value rule, the eval-mode backward. */
import { checkNumber, describe, fail } from '../validate';

export const BASE_KEYS = ['name', 'backend'] as const;

export function checkEpsArg(v: unknown, cls: string): number {
  if (v === undefined) return 1e-5;
  if (typeof v !== 'number') fail('type', 'number > 0', `eps of ${cls}`, describe(v));
  if (!Number.isFinite(v) || v <= 0) fail('range', 'number > 0', `eps of ${cls}`, describe(v));
  return v;
}

export function checkMomentumArg(v: unknown, cls: string, allowNull: boolean): number | null {
  if (v === undefined) return 0.1;
  const what = allowNull ? 'number between 0 and 1, or null (cumulative average)' : 'number between 0 and 1';
  if (v === null) {
    if (allowNull) return null;
    fail('type', what, `momentum of ${cls}`, 'null');
  }
  const m = checkNumber(v, `momentum of ${cls}`, 0, 1, what);
  if (m > 0.5) warnMomentum(cls, m);
  return m;
}

let momentumWarned = false;
/** One process warning (per process): momentum here is the weight of the new batch. */
export function warnMomentum(cls: string, m: number): void {
  if (momentumWarned) return;
  momentumWarned = true;
  process.emitWarning(
    `${cls}: momentum ${m} is the weight of the NEW batch in the running statistics (PyTorch's convention): ` +
      `running = (1 − momentum)·running + momentum·batch. Keras's momentum 0.99 corresponds to 0.01 here.`,
    'MinibatchWarning',
  );
}

/** The same error for a forward pass and for the trainer's up-front check. */
export function singleValueError(label: string, n: number, inner: number, innerName: string | null, evalHelps: boolean): RangeError {
  const count = innerName === null ? `a batch of ${n}` : `a batch of ${n} with ${innerName} = ${inner}`;
  return new RangeError(
    `Expected more than 1 value per channel in training mode for input of ${label} but received ${count} ` +
      `(1 value per channel): BatchNorm cannot compute a variance from one value per channel; ` +
      (evalHelps
        ? 'use a batch larger than 1 or eval mode'
        : 'use a batch larger than 1 (with trackRunningStats false, eval mode also uses batch statistics)'),
  );
}

/**
 * Backward through a per-channel affine map y = (x − μ_c)·s_c·γ_c + β_c (x as [n, c, inner]):
 * dx overwritten, dγ/dβ accumulate. Used for evaluation mode with running statistics.
 */
export function affineBackward(
  dx: Float32Array, dgamma: Float32Array | null, dbeta: Float32Array | null, dy: Float32Array, x: Float32Array,
  mu: Float32Array, s: Float32Array, gamma: Float32Array | null, n: number, c: number, inner: number,
): void {
  for (let ch = 0; ch < c; ch++) {
    const m = mu[ch];
    const sc = s[ch];
    const a = sc * (gamma ? gamma[ch] : 1);
    let sdy = 0;
    let sdyx = 0;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * inner;
      const end = base + inner;
      for (let k = base; k < end; k++) {
        const g = dy[k];
        dx[k] = g * a;
        sdy += g;
        sdyx += g * (x[k] - m);
      }
    }
    if (dgamma) dgamma[ch] += sdyx * sc;
    if (dbeta) dbeta[ch] += sdy;
  }
}

/** The config keys a normalization with running statistics shares (BatchNorm*, InstanceNorm2d). */
export function runningNormConfig(l: {
  numFeatures: number; eps: number; momentum: number | null; affine: boolean; trackRunningStats: boolean;
}): Record<string, unknown> {
  return { numFeatures: l.numFeatures, eps: l.eps, momentum: l.momentum, affine: l.affine, trackRunningStats: l.trackRunningStats };
}
