/**
 * minibatch's testing surface — NOT the public contract, and unchecked.
 *
 * `import { testing } from 'minibatch'` reaches the raw backends and the addon's test hooks, for
 * tests and benchmarks that call kernels directly. Nothing here validates its input the way the
 * public API does (shapes of models, finite values): both raw backends check only kinds, sizes and
 * buffer lengths, with the same checks and messages (the native glue's, mirrored for js in
 * lib/backend/js/checks.ts), so that no call can crash the process or read past a buffer.
 * Use the layers, losses and optimizers (and their `backend` option) in applications.
 */
import { jsBackend, nativeBackend } from './backend/index';
import { loadAddon, type NativeAddon } from './backend/native';
import type { Conv2dParams } from './backend/types';

export { jsBackend, nativeBackend };

/** The addon's exports beyond the Backend contract: scalar references and baselines for tests. */
export interface NativeTestHooks {
  /** SIMD level chosen, CPU features, OpenMP and threads, as the addon sees them. */
  nativeInfo(): ReturnType<NativeAddon['nativeInfo']>;
  /** C = alpha·op(A)·op(B) + beta·C, the naive triple loop with double accumulation (the oracle). */
  gemmRef(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array): void;
  /** The scalar references of the norm kernels, behind the same argument checks. */
  normReference: Record<'batchNormForward' | 'batchNormBackward' | 'groupNormForward' | 'groupNormBackward', (...args: any[]) => void>;
  /** The scalar references of the average pooling kernels (plain window loops), behind the same argument checks. */
  poolReference: Record<'avgPool2dForward' | 'avgPool2dBackward', (...args: any[]) => void>;
  /** The scalar references of the statistics kernels, behind the same argument checks. */
  statsReference: Record<'tensorStats' | 'paramStats', (...args: any[]) => void>;
  /** memcpy in static chunks over the threads: the bandwidth baseline of the benchmarks. */
  copyBuffer(dst: Float32Array, src: Float32Array, n: number): void;
  /** The FMA ceiling of the SIMD level in use, GFLOPS over `threads` threads, measured for about `ms` ms. */
  fmaPeak(threads: number, ms: number): number;
  /** The direct convolution forward whatever the shape rules say (strideW 1): SIMD tiles, or the scalar reference tile when `ref`. */
  conv2dDirect(y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, p: Conv2dParams, relu: boolean, ref: boolean): void;
  /** The pooled direct forward (Conv → ReLU → MaxPool2d(2, 2), y [n, cOut, ⌊outH/2⌋, ⌊outW/2⌋]): SIMD tiles, or the reference tile when `ref`. */
  conv2dDirectPool(y: Float32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, p: Conv2dParams, relu: boolean, ref: boolean): void;
  /** The direct input gradient (overwrites dx) whatever the shape rules say (stride 1, padding <= dilation·(kernel − 1)). */
  conv2dDirectDx(dx: Float32Array, w: Float32Array, dy: Float32Array, p: Conv2dParams): void;
  /** dw += the direct weight gradient whatever the shape rule says (strideW 1): SIMD tiles, or the scalar reference tile when `ref`. */
  conv2dDirectDw(dw: Float32Array, x: Float32Array, dy: Float32Array, p: Conv2dParams, ref: boolean): void;
  /** Whether `conv2dBackward` computes dW with the direct kernel for this geometry (its shape rule). */
  conv2dDirectDwFits(p: Conv2dParams): boolean;
}

let addon: NativeAddon | null = null;

/** The raw addon, every export included (throws, like nativeBackend(), when it cannot load). */
export function nativeAddon(): NativeAddon & NativeTestHooks {
  nativeBackend(); // the clear error when the addon cannot load
  return (addon ??= loadAddon()) as NativeAddon & NativeTestHooks;
}
