/**
 * Loss functions, named and defined as in PyTorch (torch.nn), mean reduction.
 *
 * Each loss has the explicit forward/backward pair of the training loop:
 *   const value = loss.forward(scores, targets);   // mean loss, keeps what backward needs
 *   const dScores = loss.backward();               // gradient of the mean loss w.r.t. scores
 * backward() returns a Tensor over a buffer the loss owns and reuses while the input shape stays
 * the same (no allocation per step); its contents are overwritten by the next backward().
 * forward() keeps references to its input and target (not copies) for backward(): do not modify
 * them in between.
 *
 * Sums are accumulated in double precision; the logistic and softmax forms are the stable ones.
 */
import { probabilityCe, weightedClassCe } from './loss_ce';
import type { Backend, BackendName, LabelArray } from './backend/types';
import { checkBackend, getBackend } from './backend/index';
import { checkFiniteData, sameShape, toTensor, type NestedArray, type Tensor } from './tensor';
import { checkLabels, checkNumber, checkOptions, describe, fail, formatShape, StateError } from './validate';

/** Class indices: one integer in [0, C) per row. */
export type Labels = Int32Array | Uint8Array | number[];

/**
 * The one loss interface, of the stock losses and of the trainer: forward returns the mean loss of
 * a batch (and keeps what backward needs), backward the gradient with respect to the input.
 * `targets` (the stock losses set it) says what targets the loss takes, so fit checks the whole y
 * once, before the first step changes anything: 'classes' for one class index per row, 'sameShape'
 * for a tensor of the output's shape, 'classesOrProbabilities' for either (CrossEntropyLoss: class
 * indices, or class probabilities of the output's shape).
 */
export interface Loss<T = any> {
  forward(input: Tensor | NestedArray, target: T): number;
  backward(): Tensor;
  readonly targets?: 'classes' | 'sameShape' | 'classesOrProbabilities';
}

function input2d(x: unknown, who: string): Tensor {
  const t = toTensor(x, 'input');
  if (t.shape.length !== 2) fail('range', `input of shape [N, C] for ${who}`, 'input', `shape ${formatShape(t.shape)}`);
  checkFiniteData(t, 'input');
  return t;
}

function noForward(who: string): never {
  throw new StateError(`Expected a forward() call before ${who}.backward() but received none`);
}

/** A gradient buffer that is reallocated only when the size changes. */
class GradBuffer {
  private buf = new Float32Array(0);
  get(size: number): Float32Array {
    if (this.buf.length !== size) this.buf = new Float32Array(size);
    return this.buf;
  }
}

// ------------------------------------------------------------ CrossEntropyLoss

function checkWeight(w: unknown): Float32Array {
  if (!(w instanceof Float32Array || w instanceof Float64Array || Array.isArray(w))) fail('type', 'array of class weights', 'weight', describe(w));
  const a = w as ArrayLike<number>;
  if (a.length === 0) fail('range', 'at least one class weight', 'weight', describe(w));
  for (let i = 0; i < a.length; i++) {
    if (typeof a[i] !== 'number' || !Number.isFinite(a[i]) || a[i] < 0) fail('range', 'finite weights >= 0', `weight[${i}]`, describe(a[i]));
  }
  return Float32Array.from(a);
}

/** Class probabilities are a 2-D tensor or nested rows; class indices a flat array. */
function isProbabilities(t: unknown): boolean {
  if (t instanceof Int32Array || t instanceof Uint8Array) return false;
  if (Array.isArray(t)) return t.length > 0 && Array.isArray(t[0]);
  return t !== null && typeof t === 'object' && 'shape' in (t as object) && 'data' in (t as object);
}

export interface CrossEntropyLossArgs {
  /**
   * Label smoothing ε in [0, 1): the target becomes (1 − ε)·onehot + ε/C, as in PyTorch. Default 0.
   */
  labelSmoothing?: number;
  /**
   * A weight per class (C finite values >= 0), as PyTorch's `weight`: with class indices the batch
   * mean becomes Σ w_y·loss / Σ w_y; with probability targets each class's term is scaled and the
   * mean stays over N. Default: none (all ones).
   */
  weight?: ArrayLike<number>;
  /** Backend running the softmax kernels (default: the current backend). */
  backend?: BackendName | Backend;
}

/**
 * Softmax cross-entropy over class scores [N, C] (torch.nn.CrossEntropyLoss) against class indices
 * [N] — mean over the batch of −log softmax(x_i)[y_i], gradient (softmax(x) − onehot(y)) / N — or
 * against class probabilities [N, C] (a tensor with rows summing to 1, e.g. soft labels): mean of
 * −Σ_j q_ij log softmax(x_i)_j. Weights and probability targets run in TypeScript (loss_ce.ts).
 */
export class CrossEntropyLoss implements Loss<Labels | Tensor | NestedArray> {
  /** The targets this loss takes (the trainer checks y against it up front). */
  readonly targets = 'classesOrProbabilities' as const;
  readonly labelSmoothing: number;
  /** The class weights, or null. */
  readonly weight: Float32Array | null;
  private general: { dx: Float32Array; n: number; c: number } | null = null;
  private readonly backendOpt: Backend | undefined;
  private probs = new GradBuffer();
  private grad = new GradBuffer();
  private state: { probs: Float32Array; labels: LabelArray; n: number; c: number } | null = null;

  constructor(args: CrossEntropyLossArgs = {}) {
    checkOptions(args, ['labelSmoothing', 'weight', 'backend'], 'CrossEntropyLoss');
    this.weight = args.weight === undefined ? null : checkWeight(args.weight);
    this.labelSmoothing = args.labelSmoothing === undefined ? 0 : checkNumber(args.labelSmoothing, 'labelSmoothing', 0, 1, 'number in [0, 1)');
    if (this.labelSmoothing >= 1) fail('range', 'number in [0, 1)', 'labelSmoothing', describe(this.labelSmoothing));
    this.backendOpt = checkBackend(args.backend);
  }

  forward(input: Tensor | NestedArray, target: Labels | Tensor | NestedArray): number {
    const x = input2d(input, 'CrossEntropyLoss');
    const [n, c] = x.shape;
    if (this.weight && this.weight.length !== c) fail('range', `${this.weight.length} classes (the length of weight)`, 'input', `shape ${formatShape(x.shape)}`);
    if (isProbabilities(target)) {
      const q = toTensor(target, 'target');
      if (q.shape.length !== 2 || q.shape[0] !== n || q.shape[1] !== c) fail('range', `probability targets of shape ${formatShape(x.shape)} (the input's)`, 'target', `shape ${formatShape(q.shape)}`);
      checkFiniteData(q, 'target');
      const dx = this.grad.get(n * c);
      const loss = probabilityCe(dx, x.data, q.data, n, c, this.weight, this.labelSmoothing);
      this.general = { dx, n, c };
      this.state = null;
      return loss;
    }
    const labels = checkLabels(target as Labels, 'target', n, c);
    if (this.weight) {
      const dx = this.grad.get(n * c);
      const loss = weightedClassCe(dx, x.data, labels, n, c, this.weight, this.labelSmoothing);
      this.general = { dx, n, c };
      this.state = null;
      return loss;
    }
    this.general = null;
    const probs = this.probs.get(n * c);
    let loss = (this.backendOpt ?? getBackend()).softmaxCrossEntropy(probs, x.data, labels, n, c);
    const eps = this.labelSmoothing;
    if (eps > 0) {
      // Smoothing term: mean over classes of −log p_j = logsumexp(x_i) − mean_j x_ij, per row.
      let smooth = 0;
      for (let i = 0; i < n; i++) {
        const row = i * c;
        let mx = -Infinity;
        for (let j = 0; j < c; j++) mx = Math.max(mx, x.data[row + j]);
        let se = 0;
        let sum = 0;
        for (let j = 0; j < c; j++) {
          se += Math.exp(x.data[row + j] - mx);
          sum += x.data[row + j];
        }
        smooth += mx + Math.log(se) - sum / c;
      }
      loss = (1 - eps) * loss + (eps * smooth) / n;
    }
    this.state = { probs, labels, n, c };
    return loss;
  }

  backward(): Tensor {
    if (this.general) return { data: this.general.dx, shape: [this.general.n, this.general.c] };
    if (!this.state) return noForward('CrossEntropyLoss');
    const { probs, labels, n, c } = this.state;
    const dx = this.grad.get(n * c);
    (this.backendOpt ?? getBackend()).softmaxCrossEntropyBackward(dx, probs, labels, n, c, 1 / n);
    const eps = this.labelSmoothing;
    if (eps > 0) {
      // target q = (1 − ε)·onehot + ε/C, so dx = (p − q)/N = (p − onehot)/N + ε·(onehot − 1/C)/N.
      const uniform = eps / (c * n);
      for (let i = 0; i < n; i++) {
        const row = i * c;
        for (let j = 0; j < c; j++) dx[row + j] -= uniform;
        dx[row + labels[i]] += eps / n;
      }
    }
    return { data: dx, shape: [n, c] };
  }
}

// --------------------------------------------------------------------- MSELoss

export interface ElementwiseLossArgs {
  /** Accepted for a uniform API; these losses run in TypeScript. */
  backend?: BackendName | Backend;
}

function sameShapeTarget(input: unknown, target: unknown): [Tensor, Tensor] {
  const x = toTensor(input, 'input');
  checkFiniteData(x, 'input');
  const t = toTensor(target, 'target');
  if (!sameShape(t.shape, x.shape)) fail('range', `target of shape ${formatShape(x.shape)} (the input's shape)`, 'target', `shape ${formatShape(t.shape)}`);
  checkFiniteData(t, 'target');
  return [x, t];
}

/** Mean squared error over all elements (torch.nn.MSELoss): mean((x − t)²); gradient 2(x − t)/numel. */
export class MSELoss implements Loss<Tensor | NestedArray> {
  /** The targets this loss takes (the trainer checks y against it up front). */
  readonly targets = 'sameShape' as const;
  private grad = new GradBuffer();
  private state: { x: Tensor; t: Tensor } | null = null;

  constructor(args: ElementwiseLossArgs = {}) {
    checkOptions(args, ['backend'], 'MSELoss');
    checkBackend(args.backend);
  }

  forward(input: Tensor | NestedArray, target: Tensor | NestedArray): number {
    const [x, t] = sameShapeTarget(input, target);
    let s = 0;
    for (let i = 0; i < x.data.length; i++) {
      const d = x.data[i] - t.data[i];
      s += d * d;
    }
    this.state = { x, t };
    return s / x.data.length;
  }

  backward(): Tensor {
    if (!this.state) return noForward('MSELoss');
    const { x, t } = this.state;
    const m = x.data.length;
    const dx = this.grad.get(m);
    const k = 2 / m;
    for (let i = 0; i < m; i++) dx[i] = k * (x.data[i] - t.data[i]);
    return { data: dx, shape: x.shape.slice() };
  }
}

// ----------------------------------------------------------- BCEWithLogitsLoss

/**
 * Binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss), mean over all elements, in the
 * stable form max(x, 0) − x·t + log1p(exp(−|x|)). Gradient: (sigmoid(x) − t)/numel. Targets may be
 * any real numbers (soft labels in [0, 1] usually).
 */
export class BCEWithLogitsLoss implements Loss<Tensor | NestedArray> {
  /** The targets this loss takes (the trainer checks y against it up front). */
  readonly targets = 'sameShape' as const;
  private grad = new GradBuffer();
  private state: { x: Tensor; t: Tensor } | null = null;

  constructor(args: ElementwiseLossArgs = {}) {
    checkOptions(args, ['backend'], 'BCEWithLogitsLoss');
    checkBackend(args.backend);
  }

  forward(input: Tensor | NestedArray, target: Tensor | NestedArray): number {
    const [x, t] = sameShapeTarget(input, target);
    let s = 0;
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i];
      s += Math.max(v, 0) - v * t.data[i] + Math.log1p(Math.exp(-Math.abs(v)));
    }
    this.state = { x, t };
    return s / x.data.length;
  }

  backward(): Tensor {
    if (!this.state) return noForward('BCEWithLogitsLoss');
    const { x, t } = this.state;
    const m = x.data.length;
    const dx = this.grad.get(m);
    for (let i = 0; i < m; i++) {
      const v = x.data[i];
      // sigmoid without overflow: for v < 0 use e^v / (1 + e^v)
      const e = Math.exp(-Math.abs(v));
      const sig = v >= 0 ? 1 / (1 + e) : e / (1 + e);
      dx[i] = (sig - t.data[i]) / m;
    }
    return { data: dx, shape: x.shape.slice() };
  }
}

// ------------------------------------------------------------- MultiMarginLoss

export interface MultiMarginLossArgs {
  /** Margin Δ. Default 1. */
  margin?: number;
  /** 1 (hinge) or 2 (squared hinge). Default 1. */
  p?: 1 | 2;
  /** Accepted for a uniform API; this loss runs in TypeScript. */
  backend?: BackendName | Backend;
}

/**
 * Multiclass SVM hinge loss (CS231n's SVM loss, torch.nn.MultiMarginLoss): for a row x with class y,
 * Σ_{j≠y} max(0, margin − x_y + x_j)^p / C, mean over the batch.
 * Gradient of each active term m = margin − x_y + x_j > 0: +p·m^(p−1)/(C·N) on x_j, the same
 * subtracted from x_y.
 */
export class MultiMarginLoss implements Loss<Labels> {
  /** The targets this loss takes (the trainer checks y against it up front). */
  readonly targets = 'classes' as const;
  readonly margin: number;
  readonly p: 1 | 2;
  private grad = new GradBuffer();
  private state: { x: Tensor; labels: LabelArray } | null = null;

  constructor(args: MultiMarginLossArgs = {}) {
    checkOptions(args, ['margin', 'p', 'backend'], 'MultiMarginLoss');
    this.margin = args.margin === undefined ? 1 : checkNumber(args.margin, 'margin');
    const p = args.p === undefined ? 1 : args.p;
    if (p !== 1 && p !== 2) fail(typeof p === 'number' ? 'range' : 'type', '1 or 2', 'p', describe(p));
    this.p = p;
    checkBackend(args.backend);
  }

  forward(input: Tensor | NestedArray, target: Labels): number {
    const x = input2d(input, 'MultiMarginLoss');
    const [n, c] = x.shape;
    const labels = checkLabels(target, 'target', n, c);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const row = i * c;
      const y = labels[i];
      const base = this.margin - x.data[row + y];
      for (let j = 0; j < c; j++) {
        if (j === y) continue;
        const m = base + x.data[row + j];
        if (m > 0) s += this.p === 1 ? m : m * m;
      }
    }
    this.state = { x, labels };
    return s / (c * n);
  }

  backward(): Tensor {
    if (!this.state) return noForward('MultiMarginLoss');
    const { x, labels } = this.state;
    const [n, c] = x.shape;
    const dx = this.grad.get(n * c);
    const k = 1 / (c * n);
    for (let i = 0; i < n; i++) {
      const row = i * c;
      const y = labels[i];
      const base = this.margin - x.data[row + y];
      let dy = 0;
      for (let j = 0; j < c; j++) {
        if (j === y) continue;
        const m = base + x.data[row + j];
        const g = m > 0 ? (this.p === 1 ? k : 2 * m * k) : 0;
        dx[row + j] = g;
        dy += g;
      }
      dx[row + y] = -dy;
    }
    return { data: dx, shape: [n, c] };
  }
}
