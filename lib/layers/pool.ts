/**
 * Pooling layers over NCHW images, each channel on its own: MaxPool2d and AvgPool2d, with
 * PyTorch's defaults (stride = kernelSize, padding 0, floor of the output size) and its rule that
 * padding is at most half the kernel. Max pooling treats padding as −∞; average pooling counts it
 * as zeros in the divisor (count_include_pad = True, PyTorch's default).
 */
import { Layer, LayerArgs } from './layer';
import { checkNonEmptyOutput, convOutputSize } from './conv';
import type { Pool2dParams } from '../backend/types';
import type { Tensor } from '../tensor';
import { checkOptions, checkPair, describe, fail } from '../validate';

export interface Pool2dArgs extends LayerArgs {
  /** Window size: a number or [h, w]. Required. */
  kernelSize: number | [number, number];
  /** Step between windows: a number or [h, w], each >= 1. Default: kernelSize (windows do not overlap). */
  stride?: number | [number, number];
  /** Implicit padding on each side: a number or [h, w], each between 0 and half the kernel size. Default 0. */
  padding?: number | [number, number];
}

const POOL_KEYS = ['kernelSize', 'stride', 'padding', 'name', 'backend'] as const;

abstract class Pool2d extends Layer {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  private geom: Pool2dParams | null = null;

  constructor(args: Pool2dArgs, cls: string) {
    checkOptions(args, POOL_KEYS, cls);
    if (!args) fail('type', 'options object', cls, describe(args));
    super(args, cls);
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
    const outH = convOutputSize(inputShape[1], this.kernelSize[0], this.stride[0], this.padding[0]);
    const outW = convOutputSize(inputShape[2], this.kernelSize[1], this.stride[1], this.padding[1]);
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
      outH, outW,
    };
    return this.geom;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), kernelSize: [...this.kernelSize], stride: [...this.stride], padding: [...this.padding] };
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

/** y = the mean of each window, padding counted as zeros (divisor kH·kW). */
export class AvgPool2d extends Pool2d {
  readonly className: string = 'AvgPool2d';
  constructor(args: Pool2dArgs) {
    super(args, 'AvgPool2d');
  }

  protected forwardImpl(x: Tensor): Tensor {
    const p = this.params(x.shape[0]);
    const y = this.out('y', [p.n, p.c, p.outH, p.outW]);
    this.backend.avgPool2dForward(y.data, x.data, p);
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const p = this.params(x.shape[0]);
    const dx = this.out('dx', x.shape as number[]);
    this.backend.avgPool2dBackward(dx.data, dy.data, p);
    return dx;
  }
}
