/**
 * Pooling layers over NCHW images, each channel on its own: MaxPool2d and AvgPool2d, with
 * PyTorch's defaults (stride = kernelSize, padding 0, floor of the output size) and its rule that
 * padding is at most half the kernel. Max pooling treats padding as −∞; average pooling counts it
 * as zeros in the divisor (count_include_pad = True, PyTorch's default).
 */
import { Layer, LayerArgs } from './layer';
import { checkNonEmptyOutput } from './conv';
import type { Backend, Pool2dParams } from '../backend/types';
import type { Tensor } from '../tensor';
import { checkBool, checkOptions, checkPair, describe, fail } from '../validate';

export interface Pool2dArgs extends LayerArgs {
  /** Window size: a number or [h, w]. Required. */
  kernelSize: number | [number, number];
  /** Step between windows: a number or [h, w], each >= 1. Default: kernelSize (windows do not overlap). */
  stride?: number | [number, number];
  /** Implicit padding on each side: a number or [h, w], each between 0 and half the kernel size. Default 0. */
  padding?: number | [number, number];
  /**
   * Round the output size up (PyTorch's ceil_mode): a last, partial window covers the leftover rows
   * and columns, as long as it starts inside the input or its left padding. Default false.
   */
  ceilMode?: boolean;
}

export interface AvgPool2dArgs extends Pool2dArgs {
  /**
   * Count the zero padding inside a window in its divisor (PyTorch's count_include_pad). With false
   * each window is the mean of the input values it covers. Default true.
   */
  countIncludePad?: boolean;
}

const POOL_KEYS = ['kernelSize', 'stride', 'padding', 'ceilMode', 'name', 'backend'] as const;

/** PyTorch's pooling output size, floor or ceil mode (a ceil-mode window must start before size + pad). */
export function poolOutputSize(size: number, kernel: number, stride: number, pad: number, ceilMode: boolean): number {
  const num = size + 2 * pad - kernel;
  if (num < 0) return 0;
  let o = Math.floor((num + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (o - 1) * stride >= size + pad) o--;
  return o;
}

/** Average pooling into `out`: forward (src = x, out = y) or backward (src = dy, out = dx). */
export function avgPool(backend: Backend, out: Tensor, src: Tensor, p: Pool2dParams, backward: boolean): Tensor {
  if (backward) backend.avgPool2dBackward(out.data, src.data, p);
  else backend.avgPool2dForward(out.data, src.data, p);
  return out;
}

abstract class Pool2d extends Layer {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  private geom: Pool2dParams | null = null;

  constructor(args: Pool2dArgs, cls: string, keys: readonly string[] = POOL_KEYS) {
    checkOptions(args, keys, cls);
    if (!args) fail('type', 'options object', cls, describe(args));
    super(args, cls);
    this.ceilMode = args.ceilMode === undefined ? false : checkBool(args.ceilMode, 'ceilMode');
    this.kernelSize = checkPair(args.kernelSize, 'kernelSize', 1);
    this.stride = args.stride === undefined ? [...this.kernelSize] : checkPair(args.stride, 'stride', 1);
    this.padding = checkPair(args.padding ?? 0, 'padding', 0);
    for (const i of [0, 1]) {
      const half = Math.floor(this.kernelSize[i] / 2);
      if (this.padding[i] > half) {
        const name = Array.isArray(args.padding) ? `padding[${i}]` : 'padding';
        fail('range', `integer between 0 and ${half} (at most half of kernelSize ${this.kernelSize[i]})`, name, describe(this.padding[i]));
      }
    }
  }

  protected buildImpl(inputShape: number[]): number[] {
    if (inputShape.length !== 3) {
      fail('range', '4-D input of shape [N, C, H, W]', this.label(), `input shape [N, ${inputShape.join(', ')}]`);
    }
    const outH = poolOutputSize(inputShape[1], this.kernelSize[0], this.stride[0], this.padding[0], this.ceilMode);
    const outW = poolOutputSize(inputShape[2], this.kernelSize[1], this.stride[1], this.padding[1], this.ceilMode);
    checkNonEmptyOutput(this.label(), inputShape, this.kernelSize, this.stride, this.padding, [1, 1], outH, outW);
    return [inputShape[0], outH, outW];
  }

  /** The kernel geometry for a batch of n (one object, updated when n changes). */
  protected params(n: number): Pool2dParams {
    if (this.geom && this.geom.n === n) return this.geom;
    const [c, h, w] = this.inputShape!;
    const [, outH, outW] = this.outputShape!;
    this.geom = {
      n, c, h, w,
      kH: this.kernelSize[0], kW: this.kernelSize[1],
      strideH: this.stride[0], strideW: this.stride[1],
      padH: this.padding[0], padW: this.padding[1],
      outH, outW, ceilMode: this.ceilMode, countIncludePad: this.includePad(),
    };
    return this.geom;
  }

  /** Average pooling's countIncludePad (true for max pooling, where it means nothing). */
  protected includePad(): boolean {
    return true;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), kernelSize: [...this.kernelSize], stride: [...this.stride], padding: [...this.padding],
      ...(this.ceilMode ? { ceilMode: true } : {}),
    };
  }
}

/** y = the maximum of each window; backward routes dy to the (first) maximum of its window. */
export class MaxPool2d extends Pool2d {
  readonly className: string = 'MaxPool2d';
  constructor(args: Pool2dArgs) {
    super(args, 'MaxPool2d');
  }

  protected forwardImpl(x: Tensor): Tensor {
    const p = this.params(x.shape[0]);
    const y = this.out('y', [p.n, p.c, p.outH, p.outW]);
    // argmax[i]: flat index inside the input plane, kept for backward
    this.backend.maxPool2dForward(y.data, this.scratch('argmax', y.data.length, 'int32'), x.data, p);
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const p = this.params(x.shape[0]);
    const dx = this.out('dx', x.shape as number[]);
    this.backend.maxPool2dBackward(dx.data, this.scratch('argmax', dy.data.length, 'int32'), dy.data, p);
    return dx;
  }
}

/** y = the mean of each window, padding counted as zeros (divisor kH·kW) unless countIncludePad is false. */
export class AvgPool2d extends Pool2d {
  readonly className: string = 'AvgPool2d';
  readonly countIncludePad: boolean;
  constructor(args: AvgPool2dArgs) {
    super(args, 'AvgPool2d', [...POOL_KEYS, 'countIncludePad']);
    this.countIncludePad = args.countIncludePad === undefined ? true : checkBool(args.countIncludePad, 'countIncludePad');
  }
  protected override includePad(): boolean {
    return this.countIncludePad;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), ...(this.countIncludePad ? {} : { countIncludePad: false }) };
  }

  protected forwardImpl(x: Tensor): Tensor {
    const p = this.params(x.shape[0]);
    return avgPool(this.backend, this.out('y', [p.n, p.c, p.outH, p.outW]), x, p, false);
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    return avgPool(this.backend, this.out('dx', x.shape as number[]), dy, this.params(x.shape[0]), true);
  }
}
