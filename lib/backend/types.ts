/**
 * The Backend contract: every kernel minibatch runs, implemented twice —
 * `native` (the C++ addon, SIMD + OpenMP) and `js` (plain TypeScript, the readable reference).
 *
 * Conventions (shared by both implementations, to float32 tolerance):
 * - Destination-passing: the caller owns and passes every output buffer; kernels allocate nothing.
 * - Signature shape: outputs first, then `const` inputs, then sizes and hyper-parameters.
 * - Layout: row-major float32, images NCHW. Shapes travel as plain integers.
 * - Gradients: parameter gradients (dW, db, dGamma, dBeta) ACCUMULATE (`+=`), so a model zeroes them
 *   once a step; input gradients (dx) are OVERWRITTEN.
 * - Kernels assume validated input: the public API checks shapes and kinds before calling here; the
 *   native side re-checks buffer lengths cheaply and throws RangeError/TypeError instead of crashing.
 *
 * Dimension letters: N batch, C channels, H/W height/width, D features, K classes or reduction size.
 */

export type BackendName = 'native' | 'js';
export type SimdLevel = 'avx512' | 'avx2' | 'scalar';

/** What the running backend is and can do. */
export interface Capabilities {
  /** Backend in use. */
  backend: BackendName;
  /**
   * SIMD level chosen at run time: the CPU's best (cpuid and the OS's saved register state), capped
   * by MINIBATCH_SIMD=scalar|avx2|avx512. Kernels without an AVX-512 form use their AVX2 form at
   * 'avx512'. Always 'scalar' for js.
   */
  simd: SimdLevel;
  /** Whether the native core was built with OpenMP. */
  openmp: boolean;
  /** Threads the kernels use (1 for js). */
  threads: number;
  /** Package version. */
  version: string;
  /** Native only: the path of the loaded addon (a prebuilt binary or a local build). */
  addonPath?: string;
  /**
   * Native only: how idle OpenMP threads wait — `library default (...)` when the library chose it,
   * `user (...)` when an OMP_WAIT_POLICY / GOMP_SPINCOUNT / KMP_BLOCKTIME / KMP_LIBRARY variable was
   * set, or why neither applies.
   */
  waitPolicy?: string;
}

export type ActivationKind = 'relu' | 'leaky_relu' | 'elu' | 'sigmoid' | 'tanh';

/** A 2-D window: kernel size, stride and padding per axis (shared by convolution and pooling). */
export interface Window2dParams {
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

/** Convolution geometry, NCHW input [n, cIn, h, w], weight [cOut, cIn, kH, kW], output [n, cOut, outH, outW]. */
export interface Conv2dParams extends Window2dParams {
  n: number;
  cIn: number;
  h: number;
  w: number;
  cOut: number;
  dilationH: number;
  dilationW: number;
  /** floor((h + 2 padH - dilationH (kH - 1) - 1) / strideH) + 1 */
  outH: number;
  /** floor((w + 2 padW - dilationW (kW - 1) - 1) / strideW) + 1 */
  outW: number;
}

/** Grouped convolution geometry: weight [cOut, cIn / groups, kH, kW]; groups divides cIn and cOut. */
export interface GroupedConv2dParams extends Conv2dParams {
  groups: number;
}

/** Pooling geometry, input [n, c, h, w], output [n, c, outH, outW]. Padding is implicit -inf (max) or 0 (avg). */
export interface Pool2dParams extends Window2dParams {
  n: number;
  c: number;
  h: number;
  w: number;
  outH: number;
  outW: number;
  /** outH/outW are PyTorch's ceil-mode sizes (the glue checks the formula). Default false. */
  ceilMode?: boolean;
  /** Average pooling: the padding inside a window counts in the divisor. Default true. */
  countIncludePad?: boolean;
}

export type LabelArray = Int32Array | Uint8Array;

export interface Backend {
  readonly name: BackendName;
  capabilities(): Capabilities;
  /** Threads used by the kernels from now on (n >= 1). No-op on js. */
  setNumThreads(n: number): void;
  getNumThreads(): number;

  // ---------------------------------------------------------------- GEMM
  /**
   * C = alpha * op(A) · op(B) + beta * C, with op(A) of shape [m, k] and op(B) of shape [k, n].
   * A is stored [m, k] (transA false) or [k, m] (transA true); B is [k, n] or [n, k]; C is [m, n].
   * beta == 0 overwrites C (NaN in C does not propagate).
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
  ): void;

  // --------------------------------------------------------- activations
  /** y = f(x) over n elements; alpha is the Leaky ReLU slope or the ELU scale (ignored otherwise). y may alias x. */
  activation(kind: ActivationKind, y: Float32Array, x: Float32Array, n: number, alpha: number): void;
  /**
   * dx = dy * f'(x) over n elements (overwrites dx). relu and leaky_relu read x; sigmoid and tanh read y;
   * elu reads x and y (f'(x) = y + alpha for x <= 0).
   */
  activationBackward(
    kind: ActivationKind, dx: Float32Array, x: Float32Array, y: Float32Array, dy: Float32Array,
    n: number, alpha: number,
  ): void;
  /**
   * Maxout over pieces: z is [rows, units, pieces] (pieces innermost), y[r, u] = max_p z[r, u, p],
   * argmax[r, u] = the first p reaching the maximum.
   */
  maxoutForward(y: Float32Array, argmax: Int32Array, z: Float32Array, rows: number, units: number, pieces: number): void;
  /** dz[r, u, p] = dy[r, u] if p == argmax[r, u] else 0 (overwrites dz). */
  maxoutBackward(dz: Float32Array, argmax: Int32Array, dy: Float32Array, rows: number, units: number, pieces: number): void;

  // ---------------------------------------------------------------- bias
  /** y[o, c, i] += bias[c] for y of shape [outer, channels, inner]. Dense: inner = 1. Conv: inner = H·W. */
  biasAdd(y: Float32Array, bias: Float32Array, outer: number, channels: number, inner: number): void;
  /** db[c] += sum over o, i of dy[o, c, i]. */
  biasBackward(db: Float32Array, dy: Float32Array, outer: number, channels: number, inner: number): void;

  // ---------------------------------------------------------------- loss
  /**
   * Softmax cross-entropy, mean over the batch. logits [n, k], labels [n] (each in [0, k)).
   * Writes probs [n, k] = softmax(logits) and returns the mean loss. Stable for logits of ±1e4.
   */
  softmaxCrossEntropy(probs: Float32Array, logits: Float32Array, labels: LabelArray, n: number, k: number): number;
  /** dlogits = (probs - onehot(labels)) * scale (overwrites); scale is 1/n for the batch mean. */
  softmaxCrossEntropyBackward(
    dlogits: Float32Array, probs: Float32Array, labels: LabelArray, n: number, k: number, scale: number,
  ): void;

  // --------------------------------------------------------- convolution
  /** Floats of scratch `conv2dForward` / `conv2dBackward` need for this geometry (per call; reuse it). */
  conv2dWorkspaceSize(p: Conv2dParams): number;
  /** im2col of one image x [cIn, h, w] into cols [cIn·kH·kW, outH·outW] (p.n is ignored). */
  im2col(cols: Float32Array, x: Float32Array, p: Conv2dParams): void;
  /** col2im of cols [cIn·kH·kW, outH·outW] into one image dx [cIn, h, w] (overwrites dx). */
  col2im(dx: Float32Array, cols: Float32Array, p: Conv2dParams): void;
  /**
   * y [n, cOut, outH, outW] = conv(x [n, cIn, h, w], w [cOut, cIn, kH, kW]) + bias [cOut] (bias may be null);
   * relu (default false) applies max(y, 0) in the same pass (NaN stays NaN), for fused inference.
   * pool (default false; strideW 1, outH and outW >= 2) writes MaxPool2d(2, 2) of that result instead,
   * y [n, cOut, ⌊outH/2⌋, ⌊outW/2⌋] (a NaN wins its window), for fused inference.
   */
  conv2dForward(
    y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null,
    workspace: Float32Array, p: Conv2dParams, relu?: boolean, pool?: boolean,
  ): void;
  /**
   * dx (overwritten; null to skip), dw += dY·colsᵀ summed over the batch, db += sums of dy (null to skip).
   */
  conv2dBackward(
    dx: Float32Array | null, dw: Float32Array, db: Float32Array | null,
    x: Float32Array, w: Float32Array, dy: Float32Array, workspace: Float32Array, p: Conv2dParams,
  ): void;

  /**
   * Grouped (depthwise when groups = cIn) convolution, computed directly: y [n, cOut, outH, outW]
   * from x [n, cIn, h, w] and w [cOut, cIn / groups, kH, kW], plus bias [cOut] (may be null).
   */
  groupedConv2dForward(y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, p: GroupedConv2dParams): void;
  /** dx overwritten (null to skip), dw += and db += (null to skip) for groupedConv2dForward. */
  groupedConv2dBackward(
    dx: Float32Array | null, dw: Float32Array, db: Float32Array | null,
    x: Float32Array, w: Float32Array, dy: Float32Array, p: GroupedConv2dParams,
  ): void;

  // ------------------------------------------------------------- pooling
  /** Max pooling; argmax[i] is the flat index h·W + w inside the input plane of the (first) maximum. */
  maxPool2dForward(y: Float32Array, argmax: Int32Array, x: Float32Array, p: Pool2dParams): void;
  /** dx (overwritten) receives dy at each window's argmax. */
  maxPool2dBackward(dx: Float32Array, argmax: Int32Array, dy: Float32Array, p: Pool2dParams): void;
  /** Average pooling, padding counted in the divisor (PyTorch's count_include_pad=True default). */
  avgPool2dForward(y: Float32Array, x: Float32Array, p: Pool2dParams): void;
  avgPool2dBackward(dx: Float32Array, dy: Float32Array, p: Pool2dParams): void;
  /**
   * Global average pooling: y [n·c] = the mean of each plane of x [n, c, hw] (summed in double,
   * rounded to float once).
   */
  globalAvgPoolForward(y: Float32Array, x: Float32Array, n: number, c: number, hw: number): void;
  /** dx [n, c, hw] (overwritten) = dy [n·c] / hw over each plane. */
  globalAvgPoolBackward(dx: Float32Array, dy: Float32Array, n: number, c: number, hw: number): void;

  // ------------------------------------------------------- normalization
  /**
   * BatchNorm training forward over x [n, c, inner] (dense: inner = 1; conv: inner = H·W).
   * Writes the batch mean [c], biased variance [c] and rstd = 1/sqrt(var + eps) [c], then
   * y = gamma · (x - mean) · rstd + beta (gamma/beta null: 1 and 0). Statistics in double precision.
   */
  batchNormForward(
    y: Float32Array, mean: Float32Array, variance: Float32Array, rstd: Float32Array,
    x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null,
    n: number, c: number, inner: number, eps: number,
  ): void;
  /** BatchNorm evaluation: y = gamma · (x - runningMean) / sqrt(runningVar + eps) + beta. */
  batchNormInference(
    y: Float32Array, x: Float32Array, runningMean: Float32Array, runningVar: Float32Array,
    gamma: Float32Array | null, beta: Float32Array | null, n: number, c: number, inner: number, eps: number,
  ): void;
  /** BatchNorm backward (training statistics): dx overwritten, dgamma/dbeta accumulate (null to skip). */
  batchNormBackward(
    dx: Float32Array, dgamma: Float32Array | null, dbeta: Float32Array | null,
    dy: Float32Array, x: Float32Array, mean: Float32Array, rstd: Float32Array, gamma: Float32Array | null,
    n: number, c: number, inner: number,
  ): void;
  /**
   * Group normalization over x [n, c, inner] with `groups` groups of c/groups channels: statistics per
   * (sample, group) over (c/groups)·inner values, written to mean/rstd [n·groups]; gamma/beta per channel.
   * LayerNorm over the last dims is (n = rows, c = D, inner = 1, groups = 1) with gamma [D];
   * InstanceNorm is groups = c.
   */
  groupNormForward(
    y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array,
    gamma: Float32Array | null, beta: Float32Array | null,
    n: number, c: number, inner: number, groups: number, eps: number,
  ): void;
  groupNormBackward(
    dx: Float32Array, dgamma: Float32Array | null, dbeta: Float32Array | null,
    dy: Float32Array, x: Float32Array, mean: Float32Array, rstd: Float32Array, gamma: Float32Array | null,
    n: number, c: number, inner: number, groups: number,
  ): void;

  // ---------------------------------------------------------- optimizers
  /**
   * SGD as torch.optim.SGD over n values: g = grad + weightDecay·param; with momentum,
   * buf = momentum·buf + (1 - dampening)·g (buf = g on the first step), g = nesterov ? g + momentum·buf : buf;
   * param -= lr·g.
   */
  sgdStep(
    param: Float32Array, grad: Float32Array, momentumBuf: Float32Array, n: number,
    lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean,
  ): void;
  /**
   * Adam / AdamW as torch.optim: step is 1-based. decoupled = true is AdamW (param *= 1 - lr·wd),
   * false adds wd·param to the gradient.
   */
  adamStep(
    param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number,
  ): void;
  /** RMSProp as torch.optim.RMSprop (not centered): sq = alpha·sq + (1-alpha)·g², buf = momentum·buf + g/(sqrt(sq)+eps). */
  rmspropStep(
    param: Float32Array, grad: Float32Array, sq: Float32Array, momentumBuf: Float32Array, n: number,
    lr: number, alpha: number, eps: number, weightDecay: number, momentum: number,
  ): void;
  /**
   * The guarded updates: the update above with, in the same pass, what a trainer's NaN/Inf guard needs
   * around it. The first n values of param and of each state the update uses are copied into their
   * backups (the values before the update), the update runs (params and state bit-identical to the
   * unguarded call's), and the result says whether every new param is finite. The native kernels do
   * it chunk by chunk, so each chunk is still in cache for the update and the check. A momentum
   * backup is neither read nor written when momentum is 0 (any Float32Array will do, as for the buffer).
   */
  sgdStepGuarded(
    param: Float32Array, grad: Float32Array, momentumBuf: Float32Array, paramBackup: Float32Array, momentumBufBackup: Float32Array,
    n: number, lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean,
  ): boolean;
  adamStepGuarded(
    param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array,
    paramBackup: Float32Array, mBackup: Float32Array, vBackup: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number,
  ): boolean;
  rmspropStepGuarded(
    param: Float32Array, grad: Float32Array, sq: Float32Array, momentumBuf: Float32Array,
    paramBackup: Float32Array, sqBackup: Float32Array, momentumBufBackup: Float32Array, n: number,
    lr: number, alpha: number, eps: number, weightDecay: number, momentum: number,
  ): boolean;

  // ---------------------------------------------------------- statistics
  /**
   * One pass over x viewed as [outer, units, inner] (dense: [N, D, 1], conv: [N, C, H·W]).
   * out [8] is overwritten with: sum and sum of squares of the finite values, their min and max
   * (+inf / -inf if none), the count of zeros, of NaN/±inf values (left out of every other slot),
   * of |x| > 0.99 (tanh saturation) and of x < 0.01 or x > 0.99 (sigmoid saturation).
   * hist [bins] (null when bins is 0) is overwritten with counts of the finite values in equal bins
   * over [lo, hi): values below lo count in the first bin, values at or above hi in the last.
   * unitNonzero [units] (or null) is overwritten with each unit's count of nonzero values.
   * Sums in double, in one fixed order.
   */
  tensorStats(
    out: Float64Array, hist: Float64Array | null, unitNonzero: Int32Array | null, x: Float32Array,
    outer: number, units: number, inner: number, lo: number, hi: number, bins: number,
  ): void;
  /** out [3] overwritten with Σ w², Σ (w − prev)² (0 when prev is null) and Σ g² (0 when g is null) over n values. */
  paramStats(out: Float64Array, w: Float32Array, prev: Float32Array | null, g: Float32Array | null, n: number): void;
}
