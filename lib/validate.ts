/**
 * Input validation for every public entry. One message form throughout:
 *   Expected <what> for <name> but received <value>
 * TypeError for the wrong kind of thing, RangeError for a wrong size, shape or value.
 * Shapes are printed whole, e.g. `shape [32, 3, 28, 28]`.
 * Calls made in the wrong order or on an object in the wrong state (a model not built yet, a
 * closed pool, a model already training) throw StateError instead.
 */

/**
 * A call that is valid in itself but not now: the object it is made on is in the wrong state
 * (not built, not fitted, closed, busy). The message says what to do first.
 */
export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Whether a typed array's buffer has been detached (transferred). */
export function isDetached(a: ArrayBufferView): boolean {
  if (a.byteLength !== 0) return false;
  try {
    // Constructing a view over a detached buffer throws; over an empty one it does not.
    new Uint8Array(a.buffer as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

/** A short description of any value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return `${Number.isNaN(v) ? 'NaN' : String(v)} of type number`;
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '...' : v}' of type string`;
  if (typeof v === 'boolean' || typeof v === 'bigint') return `${String(v)} of type ${typeof v}`;
  if (typeof v === 'function') return 'a function';
  if (ArrayBuffer.isView(v)) {
    const name = (v as object).constructor?.name ?? 'TypedArray';
    if (isDetached(v)) return `${name} with a detached buffer`;
    return `${name} of length ${(v as unknown as { length: number }).length ?? v.byteLength}`;
  }
  if (Array.isArray(v)) return `Array of length ${v.length}`;
  if (typeof v === 'object') {
    const t = v as { shape?: unknown; data?: unknown };
    if (Array.isArray(t.shape) && ArrayBuffer.isView(t.data)) return `tensor of shape ${formatShape(t.shape as number[])}`;
    return `object of type ${(v as object).constructor?.name ?? 'Object'}`;
  }
  return typeof v;
}

export function fail(kind: 'type' | 'range', what: string, name: string, got: string): never {
  const msg = `Expected ${what} for ${name} but received ${got}`;
  throw kind === 'type' ? new TypeError(msg) : new RangeError(msg);
}

/** An integer in [min, max]; returns it. */
export function checkInt(v: unknown, name: string, min = 1, max = 2 ** 31 - 1): number {
  const what = max === 2 ** 31 - 1 ? `integer >= ${min}` : `integer between ${min} and ${max}`;
  if (typeof v !== 'number') fail('type', what, name, describe(v));
  if (!Number.isInteger(v) || v < min || v > max) fail('range', what, name, describe(v));
  return v;
}

/** A finite number in [min, max] (bounds optional). */
export function checkNumber(v: unknown, name: string, min = -Infinity, max = Infinity, what?: string): number {
  const w =
    what ??
    (min === -Infinity && max === Infinity
      ? 'finite number'
      : max === Infinity
        ? `finite number >= ${min}`
        : min === -Infinity
          ? `finite number <= ${max}`
          : `number between ${min} and ${max}`);
  if (typeof v !== 'number') fail('type', w, name, describe(v));
  if (!Number.isFinite(v) || v < min || v > max) fail('range', w, name, describe(v));
  return v;
}

export function checkBool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') fail('type', 'boolean', name, describe(v));
  return v;
}

export function checkLabels(v: unknown, name: string, n: number, classes: number): Int32Array | Uint8Array {
  let labels: Int32Array | Uint8Array;
  if (v instanceof Int32Array || v instanceof Uint8Array) labels = v;
  else if (Array.isArray(v)) {
    labels = new Int32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isInteger(x)) fail('type', 'integer class index', `${name}[${i}]`, describe(x));
      labels[i] = x;
    }
  } else return fail('type', 'Int32Array or Uint8Array of class indices', name, describe(v));
  if (isDetached(labels)) fail('range', 'an attached buffer', name, 'a detached buffer');
  if (labels.length !== n) fail('range', `${n} labels (one per row)`, name, describe(labels));
  for (let i = 0; i < labels.length; i++) {
    const x = labels[i];
    if (x < 0 || x >= classes) fail('range', `class index between 0 and ${classes - 1}`, `${name}[${i}]`, describe(x));
  }
  return labels;
}

/**
 * Option names people bring from PyTorch, Keras, tfjs or other libraries, mapped to ours (in order
 * of preference) for the "did you mean" hint of every options object.
 */
const ALIASES: Record<string, readonly string[]> = {
  // optimizers and schedules
  learningRate: ['lr'], learning_rate: ['lr'], rate: ['p', 'lr'], weight_decay: ['weightDecay'], decay: ['weightDecay'],
  l2: ['weightDecay'], beta1: ['betas'], beta2: ['betas'], beta_1: ['betas'], beta_2: ['betas'], epsilon: ['eps'],
  rho: ['alpha'], step_size: ['stepSize'], T_max: ['tMax'], eta_min: ['etaMin'], total_iters: ['warmupSteps'],
  totalIters: ['warmupSteps'], warmup_steps: ['warmupSteps'], start_factor: ['startFactor'],
  // layers
  dropout: ['p'], prob: ['p'], units: ['outFeatures'], filters: ['outChannels'], in_features: ['inFeatures'],
  out_features: ['outFeatures'], in_channels: ['inChannels'], out_channels: ['outChannels'], kernel_size: ['kernelSize'],
  poolSize: ['kernelSize'], pool_size: ['kernelSize'], strides: ['stride'], dilationRate: ['dilation'],
  dilation_rate: ['dilation'], useBias: ['bias'], use_bias: ['bias'], kernelInitializer: ['weightInit'],
  biasInitializer: ['biasInit'], num_features: ['numFeatures'], num_groups: ['numGroups'],
  num_channels: ['numChannels'], normalized_shape: ['normalizedShape'], elementwise_affine: ['elementwiseAffine'],
  track_running_stats: ['trackRunningStats'], negative_slope: ['alpha'], negativeSlope: ['alpha'],
  // trainer
  batch_size: ['batchSize'], validation_split: ['validationSplit'], validation_data: ['validationData'],
  restore_best_weights: ['restoreBestWeights'], min_delta: ['minDelta'],
};

/** Rejects unknown option names, suggesting the alias or the closest known one. */
export function checkOptions(opts: unknown, known: readonly string[], name: string): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) fail('type', 'options object', name, describe(opts));
  for (const key of Object.keys(opts as object)) {
    if (known.includes(key)) continue;
    const best = (ALIASES[key] ?? []).find((a) => known.includes(a)) ?? closest(key, known);
    const hint = best ? ` (did you mean '${best}'?)` : '';
    throw new TypeError(`Expected one of ${known.map((k) => `'${k}'`).join(', ')} for an option of ${name} but received '${key}'${hint}`);
  }
}

function closest(s: string, options: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(s.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return bestD <= Math.max(2, Math.floor(s.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}

/** A size argument that is a number or an [h, w] pair; returns [h, w]. */
export function checkPair(v: unknown, name: string, min: number): [number, number] {
  if (typeof v === 'number') {
    checkInt(v, name, min);
    return [v, v];
  }
  if (Array.isArray(v) && v.length === 2) {
    return [checkInt(v[0], `${name}[0]`, min), checkInt(v[1], `${name}[1]`, min)];
  }
  return fail('type', `integer or [h, w] pair of integers >= ${min}`, name, describe(v));
}
