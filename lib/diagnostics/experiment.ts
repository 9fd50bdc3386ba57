/**
 * The initialization experiment of the lecture: N(0, 1) input through a plain deep net
 * (Linear without bias → [BatchNorm] → tanh or ReLU, `layers` times, `width` units, batch `batch`),
 * reporting every layer's activation mean, std, saturated (tanh) or dead (ReLU) fraction and a
 * histogram. Defaults are the lecture's setting: 6 layers of 4096 units, batch 16.
 *
 * Weights are the lecture's `randn(fanIn, fanOut) * scale`: 'xavier' is scale 1/√fanIn, 'kaiming'
 * √(2/fanIn) (equal to the library's xavierNormal / kaimingNormal for these square layers), a number
 * is the scale itself (0.01, 0.05 ...). Because every case is the same standard-normal draw times a
 * scale, `compareInits` draws each layer's matrix once and runs all cases on it (the scale enters
 * the GEMM as alpha): five cases cost one set of random numbers. All arithmetic goes through the
 * backend (GEMM, BatchNorm, activation, tensorStats), so the native backend runs it in native code.
 */
import { getBackend } from '../backend/index';
import { Generator } from '../random';
import { checkBool, checkInt, checkOptions, describe, fail } from '../validate';

export type InitName = 'xavier' | 'kaiming';

export interface InitExperimentCase {
  /** Nonlinearity after each layer. Default 'tanh'. */
  activation?: 'tanh' | 'relu';
  /** 'xavier' (1/√fanIn), 'kaiming' (√(2/fanIn)) or the std of N(0, std²) weights. Default 'xavier'. */
  init?: InitName | number;
  /** BatchNorm (no affine, batch statistics) before each nonlinearity. Default false. */
  batchNorm?: boolean;
  /** Label on the page. Default e.g. 'tanh, xavier' or 'relu, 0.01·N(0,1), BatchNorm'. */
  label?: string;
}

export interface InitExperimentOptions extends InitExperimentCase {
  /** Hidden layers. Default 6. */
  layers?: number;
  /** Units per layer (and input width). Default 4096. */
  width?: number;
  /** Batch size. Default 16. */
  batch?: number;
  /** Seed of the input and weight draws. Default 0. */
  seed?: number;
  /** Histogram bins. Default 40. */
  bins?: number;
}

export interface InitLayerResult {
  layer: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** tanh: fraction of |y| > 0.99. */
  saturated?: number;
  /** relu: fraction of units zero for the whole batch. */
  dead?: number;
  /** relu: fraction of exact zeros. */
  zeros?: number;
  hist: { lo: number; hi: number; counts: number[] };
}

export interface InitExperimentResult {
  label: string;
  activation: 'tanh' | 'relu';
  init: InitName | number;
  batchNorm: boolean;
  layers: number;
  width: number;
  batch: number;
  seed: number;
  results: InitLayerResult[];
}

const COMMON_KEYS = ['layers', 'width', 'batch', 'seed', 'bins'] as const;
const CASE_KEYS = ['activation', 'init', 'batchNorm', 'label'] as const;

/** One case of the experiment (see the file header). */
export function initExperiment(options: InitExperimentOptions = {}): InitExperimentResult {
  checkOptions(options, [...COMMON_KEYS, ...CASE_KEYS], 'initExperiment');
  const { activation, init, batchNorm, label, ...common } = options ?? {};
  return compareInits([{ activation, init, batchNorm, label }], common)[0];
}

/** The lecture's five cases: tanh with 0.01, 0.05 and Xavier; ReLU with Xavier and Kaiming. */
export const LECTURE_CASES: readonly InitExperimentCase[] = Object.freeze([
  { activation: 'tanh', init: 0.01 },
  { activation: 'tanh', init: 0.05 },
  { activation: 'tanh', init: 'xavier' },
  { activation: 'relu', init: 'xavier' },
  { activation: 'relu', init: 'kaiming' },
] as InitExperimentCase[]);

/** Several cases over the same draws (see the file header); default: LECTURE_CASES. */
export function compareInits(
  cases: readonly InitExperimentCase[] = LECTURE_CASES,
  options: Omit<InitExperimentOptions, keyof InitExperimentCase> = {},
): InitExperimentResult[] {
  checkOptions(options, COMMON_KEYS, 'compareInits options');
  if (!Array.isArray(cases) || cases.length === 0) fail('type', 'non-empty array of cases', 'cases', describe(cases));
  const layers = checkInt(options.layers ?? 6, 'layers', 1, 1000);
  const width = checkInt(options.width ?? 4096, 'width', 1, 65536);
  const batch = checkInt(options.batch ?? 16, 'batch', 2, 1 << 20);
  const seed = checkInt(options.seed ?? 0, 'seed', 0);
  const bins = checkInt(options.bins ?? 40, 'bins', 1, 1000);
  if (width * width > 2 ** 28) fail('range', 'width with width² <= 2^28', 'width', describe(width));
  const parsed = cases.map((c, i) => parseCase(c, i));
  const b = getBackend();
  const rng = new Generator(seed);
  const n = batch * width;
  const x = new Float32Array(n);
  fillNormal(x, rng);
  const w = new Float32Array(width * width);
  // per case: the current input and, per layer, its activations (histograms need the case's range)
  const inputs = parsed.map(() => x);
  const acts = parsed.map(() => [] as Float32Array[]);
  const pre = new Float32Array(n);
  const mean = new Float32Array(width);
  const variance = new Float32Array(width);
  const rstd = new Float32Array(width);
  for (let l = 0; l < layers; l++) {
    fillNormal(w, rng);
    parsed.forEach((c, k) => {
      const scale = c.init === 'xavier' ? 1 / Math.sqrt(width) : c.init === 'kaiming' ? Math.sqrt(2 / width) : c.init;
      b.gemm(false, false, batch, width, width, scale, inputs[k], w, 0, pre);
      if (c.batchNorm) b.batchNormForward(pre, mean, variance, rstd, Float32Array.from(pre), null, null, batch, width, 1, 1e-5);
      const h = new Float32Array(n);
      b.activation(c.activation, h, pre, n, 0);
      acts[k].push(h);
      inputs[k] = h;
    });
  }
  return parsed.map((c, k) => ({ ...c, layers, width, batch, seed, results: summarize(b, acts[k], c.activation, batch, width, bins) }));
}

/**
 * Standard normals by Box–Muller over 32-bit uniforms (both values of each pair used): twice as
 * fast as Generator.normal's 53-bit uniforms, which matters for 6 × 4096² draws.
 */
function fillNormal(a: Float32Array, rng: Generator): void {
  const k = 2.3283064365386963e-10; // 2^-32
  const n = a.length;
  for (let i = 0; i < n; ) {
    const r = Math.sqrt(-2 * Math.log((rng.nextU32() + 0.5) * k));
    const t = 6.283185307179586 * rng.nextU32() * k;
    a[i++] = r * Math.cos(t);
    if (i < n) a[i++] = r * Math.sin(t);
  }
}

type ParsedCase = Required<Omit<InitExperimentCase, 'label'>> & { label: string };

function parseCase(c: InitExperimentCase, i: number): ParsedCase {
  const name = `cases[${i}]`;
  checkOptions(c, CASE_KEYS, name);
  const activation = c.activation ?? 'tanh';
  if (activation !== 'tanh' && activation !== 'relu') fail('range', "'tanh' or 'relu'", `${name}.activation`, describe(activation));
  const init = c.init ?? 'xavier';
  if (typeof init === 'number') {
    if (!Number.isFinite(init) || init <= 0) fail('range', 'number > 0', `${name}.init`, describe(init));
  } else if (init !== 'xavier' && init !== 'kaiming') fail(typeof init === 'string' ? 'range' : 'type', "'xavier', 'kaiming' or a std > 0", `${name}.init`, describe(init));
  const batchNorm = checkBool(c.batchNorm ?? false, `${name}.batchNorm`);
  const label =
    c.label === undefined
      ? `${activation}, ${typeof init === 'number' ? `${init}·N(0,1)` : init}${batchNorm ? ', BatchNorm' : ''}`
      : typeof c.label === 'string'
        ? c.label
        : fail('type', 'string', `${name}.label`, describe(c.label));
  return { activation, init, batchNorm, label };
}

function summarize(b: ReturnType<typeof getBackend>, acts: Float32Array[], activation: 'tanh' | 'relu', batch: number, width: number, bins: number): InitLayerResult[] {
  const out = new Float64Array(8);
  const nz = new Int32Array(width);
  // one range for all layers of a case, so the histograms show the collapse
  let top = 0;
  if (activation === 'relu') {
    for (const a of acts) {
      b.tensorStats(out, null, null, a, batch, width, 1, 0, 1, 0);
      top = Math.max(top, out[3]);
    }
  }
  const [lo, hi] = activation === 'tanh' ? [-1, 1] : [0, top > 0 ? top : 1];
  return acts.map((a, layer) => {
    const hist = new Float64Array(bins);
    b.tensorStats(out, hist, nz, a, batch, width, 1, lo, hi, bins);
    const count = a.length;
    const m = out[0] / count;
    const r: InitLayerResult = {
      layer,
      mean: m,
      std: Math.sqrt(Math.max(0, out[1] / count - m * m)),
      min: out[2],
      max: out[3],
      hist: { lo, hi, counts: Array.from(hist) },
    };
    if (activation === 'tanh') r.saturated = out[6] / count;
    else {
      let dead = 0;
      for (let u = 0; u < width; u++) if (nz[u] === 0) dead++;
      r.dead = dead / width;
      r.zeros = out[4] / count;
    }
    return r;
  });
}
