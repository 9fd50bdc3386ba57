/**
 * Fused inference for a Sequential in eval mode: a Conv2d followed by a BatchNorm2d that uses its
 * running statistics, by a ReLU and by a MaxPool2d(2, 2), runs as ONE convolution pass instead of
 * four passes over the activations. The BatchNorm is folded into the convolution (as ONNX Runtime and PyTorch's
 * fuse_conv_bn_eval do):
 *
 *   a[c]     = γ[c] / √(running_var[c] + eps)          (γ = 1 without affine)
 *   w'[c, :] = w[c, :] · a[c]
 *   b'[c]    = (b[c] − running_mean[c]) · a[c] + β[c]   (b = 0 without bias, β = 0 without affine)
 *
 * and the ReLU and the 2×2 max pooling (kernel 2, stride 2, no padding, floor mode; on a convolution
 * with column stride 1) are applied by the convolution's output pass, which then never writes the
 * unpooled activations. The folded weights are recomputed on
 * every call (cOut · cIn · kH · kW multiplies in one SIMD pass, small beside the convolution), so a
 * changed weight or running statistic is always seen. Results equal the unfused pass to float32 rounding.
 *
 * Only the model's direct children are matched, and only the stock classes (a subclass may change
 * forward). Layers skipped by a fused step keep no cached input or output: Sequential.backward
 * reruns the plain forward first when the last forward was fused.
 */
import { Layer } from './layers/layer';
import { Conv2d } from './layers/conv';
import { BatchNorm2d } from './layers/norm';
import { ReLU } from './layers/activation';
import { MaxPool2d } from './layers/pool';
import type { Tensor } from './tensor';

/** One fused step: a convolution, the BatchNorm folded into it (or none), whether a ReLU and a 2×2 max pooling follow. */
interface Step {
  conv: Conv2d;
  bn: BatchNorm2d | null;
  relu: boolean;
  pool: boolean;
  /** Layers the step covers. */
  width: number;
}

/** Folded weights and bias per convolution, reused between calls (owned by one Sequential); zero: a zero mean [cOut] for the weight pass. */
export type FoldBuffers = Map<Conv2d, { w: Float32Array; b: Float32Array; zero: Float32Array }>;

function isStock(l: Layer | undefined, cls: Function, className: string): boolean {
  return l !== undefined && l instanceof cls && l.constructor === cls && l.className === className;
}

/** The fused step starting at layers[i], or null when none starts there. */
function stepAt(layers: readonly Layer[], i: number): Step | null {
  const conv = layers[i];
  if (!isStock(conv, Conv2d, 'Conv2d') || !conv.built) return null;
  const c = conv as Conv2d;
  // grouped convolutions run their own kernel
  if (((c as unknown as { groups?: number }).groups ?? 1) !== 1) return null;
  let j = i + 1;
  let bn: BatchNorm2d | null = null;
  const next = layers[j] as BatchNorm2d | undefined;
  if (isStock(next, BatchNorm2d, 'BatchNorm2d') && !next!.training && next!.trackRunningStats && next!.built && next!.numFeatures === c.outChannels) {
    bn = next!;
    j++;
  }
  const relu = isStock(layers[j], ReLU, 'ReLU');
  if (relu) j++;
  const pool = isPool2x2(layers[j], c);
  if (pool) j++;
  return bn || relu || pool ? { conv: c, bn, relu, pool, width: j - i } : null;
}

/** Whether l is a stock MaxPool2d(2, 2) (no padding, floor mode) the convolution's pass can apply. */
function isPool2x2(l: Layer | undefined, conv: Conv2d): boolean {
  if (!isStock(l, MaxPool2d, 'MaxPool2d')) return false;
  const m = l as MaxPool2d;
  const two = (v: readonly number[]) => v[0] === 2 && v[1] === 2;
  return two(m.kernelSize) && two(m.stride) && m.padding[0] === 0 && m.padding[1] === 0 && !m.ceilMode && conv.stride[1] === 1;
}

/** Weights from which fold() calls the backend instead of looping here (a call costs about 1.7 µs). */
const FOLD_NATIVE_MIN = 2048;

/**
 * w' and b' of a convolution with its BatchNorm folded in (see the header), into reused buffers. The
 * weights go through the backend's batchNormInference over [1, cOut, cIn·kH·kW] with a zero mean and
 * no β, which is w · γ/√(var + eps) per output channel: one SIMD pass instead of a JavaScript loop
 * over every weight (about a sixth of a batch-1 MNIST CNN forward); small layers keep the loop. The
 * coefficient is rounded to float32 before the product either way.
 */
function fold(conv: Conv2d, bn: BatchNorm2d, buffers: FoldBuffers): { w: Float32Array; b: Float32Array } {
  const w = conv.param('weight').data;
  const co = conv.outChannels;
  let f = buffers.get(conv);
  if (!f || f.w.length !== w.length) {
    f = { w: new Float32Array(w.length), b: new Float32Array(co), zero: new Float32Array(co) };
    buffers.set(conv, f);
  }
  const bias = conv.hasBias ? conv.param('bias').data : null;
  const gamma = bn.affine ? bn.param('weight').data : null;
  const beta = bn.affine ? bn.param('bias').data : null;
  const [mean, variance] = bn.buffers();
  const k = w.length / co;
  if (w.length >= FOLD_NATIVE_MIN) conv.backend.batchNormInference(f.w, w, f.zero, variance.data, gamma, null, 1, co, k, bn.eps);
  for (let c = 0; c < co; c++) {
    const a = (gamma ? gamma[c] : 1) / Math.sqrt(variance.data[c] + bn.eps);
    if (w.length < FOLD_NATIVE_MIN) {
      const af = Math.fround(a);
      for (let q = c * k, end = q + k; q < end; q++) f.w[q] = w[q] * af;
    }
    f.b[c] = ((bias ? bias[c] : 0) - mean.data[c]) * a + (beta ? beta[c] : 0);
  }
  return f;
}

/**
 * Runs the layers over x with every fusable step fused. Returns the output and whether any step was
 * fused (when none was, every layer ran its own forward and holds its caches as usual).
 */
export function fusedForward(layers: readonly Layer[], x: Tensor, buffers: FoldBuffers): { y: Tensor; fused: boolean } {
  let fused = false;
  for (let i = 0; i < layers.length;) {
    const step = stepAt(layers, i);
    if (!step) {
      x = layers[i++].forward(x);
      continue;
    }
    const { conv, bn, relu, pool } = step;
    const f = bn ? fold(conv, bn, buffers) : null;
    x = conv.forwardFused(x, f ? f.w : conv.param('weight').data, f ? f.b : conv.hasBias ? conv.param('bias').data : null, relu, pool);
    i += step.width;
    fused = true;
  }
  return { y: x, fused };
}
