/**
 * Convolution layers: Conv2d over NCHW images, weight stored [out, in, kH, kW] as PyTorch does.
 *
 *   y[n, co, oh, ow] = b[co] + Σ_{ci, i, j} w[co, ci, i, j] · x[n, ci, oh·sH − pH + i·dH, ow·sW − pW + j·dW]
 *
 * with zeros outside the input. The backend does the work (im2col + GEMM, col2im for dx); the layer
 * checks shapes, owns the workspace and the output buffers, and keeps them between steps.
 */
import { Layer, LayerArgs } from './layer';
import { Generator } from '../random';
import { Initializer, checkInit, initConfigs, torchDefault, uniform } from '../init';
import type { Backend, Conv2dParams, GroupedConv2dParams } from '../backend/types';
import { threadChanges } from '../backend/threads';
import type { Tensor } from '../tensor';
import { checkBool, checkInt, checkOptions, checkPair, describe, fail, formatShape } from '../validate';

/**
 * Output length of a convolution or pooling window sliding over `size` values (PyTorch's formula):
 * floor((size + 2·pad − dilation·(kernel − 1) − 1) / stride) + 1. Zero or less means no output.
 */
export function convOutputSize(size: number, kernel: number, stride: number, pad: number, dilation = 1): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * Throws the RangeError for an input too small to give any output: names the layer, the smallest
 * input height and width that works, the window parameters and the input shape.
 */
export function checkNonEmptyOutput(
  label: string, inputShape: readonly number[], kernel: [number, number], stride: [number, number],
  padding: [number, number], dilation: [number, number], outH: number, outW: number,
): void {
  if (outH >= 1 && outW >= 1) return;
  const minH = Math.max(1, dilation[0] * (kernel[0] - 1) + 1 - 2 * padding[0]);
  const minW = Math.max(1, dilation[1] * (kernel[1] - 1) + 1 - 2 * padding[1]);
  const geometry =
    `kernelSize ${formatShape(kernel)}, stride ${formatShape(stride)}, padding ${formatShape(padding)}` +
    (dilation[0] === 1 && dilation[1] === 1 ? '' : `, dilation ${formatShape(dilation)}`);
  fail(
    'range',
    `input height and width of at least [${minH}, ${minW}] (${geometry} leave no output otherwise)`,
    label,
    `input shape [N, ${inputShape.join(', ')}]`,
  );
}

/** The symmetric padding of padding: 'same' (stride 1; dilation·(kernel − 1) even). */
function samePadding(kernel: [number, number], stride: [number, number], dilation: [number, number]): [number, number] {
  if (stride[0] !== 1 || stride[1] !== 1) fail('range', "stride 1 with padding 'same'", 'stride', formatShape(stride));
  return [0, 1].map((i) => {
    const total = dilation[i] * (kernel[i] - 1);
    if (total % 2 !== 0) {
      fail('range', "an odd kernel size (or an even dilation) with padding 'same' (the padding is symmetric)", 'kernelSize', formatShape(kernel));
    }
    return total / 2;
  }) as [number, number];
}

export interface Conv2dArgs extends LayerArgs {
  /** Input channels (C of the NCHW input). Required. */
  inChannels: number;
  /** Output channels (number of filters). Required. */
  outChannels: number;
  /** Kernel size: a number or [h, w]. Required. */
  kernelSize: number | [number, number];
  /** Stride: a number or [h, w], each >= 1. Default 1. */
  stride?: number | [number, number];
  /**
   * Zero padding on each side: a number or [h, w], each >= 0, or 'same' (stride 1 only: the output
   * keeps the input's height and width; the padding dilation·(kernel − 1) / 2 must be whole, i.e. an
   * odd kernel or an even dilation, because the padding is symmetric). Default 0.
   */
  padding?: number | [number, number] | 'same';
  /**
   * Split channels into this many groups, each convolved on its own (weight [out, in / groups, kH,
   * kW]); groups = inChannels is a depthwise convolution. Must divide both channel counts. Default 1.
   */
  groups?: number;
  /** Spacing between kernel taps: a number or [h, w], each >= 1. Default 1. */
  dilation?: number | [number, number];
  /** Learn an additive bias per output channel. Default true. */
  bias?: boolean;
  /**
   * Weight initializer; fanIn = kH·kW·inChannels, fanOut = kH·kW·outChannels.
   * Default: PyTorch's, U(±1/√fanIn) (kaiming_uniform with a = √5).
   */
  weightInit?: Initializer;
  /** Bias initializer. Default: PyTorch's, U(±1/√fanIn). */
  biasInit?: Initializer;
}

const CONV2D_KEYS = [
  'inChannels', 'outChannels', 'kernelSize', 'stride', 'padding', 'dilation', 'groups', 'bias', 'weightInit', 'biasInit', 'name', 'backend',
] as const;

/** 2-D convolution: input [N, inChannels, H, W] → output [N, outChannels, outH, outW]. */
export class Conv2d extends Layer {
  readonly className: string = 'Conv2d';
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  /** true when built from padding: 'same' (kept in the config). */
  readonly samePadding: boolean;
  readonly hasBias: boolean;
  readonly weightInit: Initializer;
  readonly biasInit: Initializer | null;
  /**
   * Whether backward() computes the input gradient. A model may set it to false for its first
   * layer, whose input gradient nobody reads: backward() then skips the col2im half of the work
   * (parameter gradients are still accumulated) and returns a tensor of ZEROS of the input's shape,
   * not the gradient. Default true.
   */
  needsInputGrad = true;

  private geom: GroupedConv2dParams | null = null;

  constructor(args: Conv2dArgs) {
    checkOptions(args, CONV2D_KEYS, 'Conv2d');
    if (!args) fail('type', 'options object', 'Conv2d', describe(args));
    super(args, 'Conv2d');
    this.inChannels = checkInt(args.inChannels, 'inChannels');
    this.outChannels = checkInt(args.outChannels, 'outChannels');
    this.kernelSize = checkPair(args.kernelSize, 'kernelSize', 1);
    this.stride = checkPair(args.stride ?? 1, 'stride', 1);
    this.dilation = checkPair(args.dilation ?? 1, 'dilation', 1);
    this.samePadding = args.padding === 'same';
    this.padding = this.samePadding ? samePadding(this.kernelSize, this.stride, this.dilation) : checkPair(args.padding ?? 0, 'padding', 0);
    this.groups = checkInt(args.groups ?? 1, 'groups');
    if (this.inChannels % this.groups !== 0 || this.outChannels % this.groups !== 0) {
      fail('range', `a divisor of inChannels ${this.inChannels} and outChannels ${this.outChannels}`, 'groups', describe(this.groups));
    }
    this.hasBias = args.bias === undefined ? true : checkBool(args.bias, 'bias');
    this.weightInit = checkInit(args.weightInit, 'weightInit') ?? torchDefault();
    this.biasInit = checkInit(args.biasInit, 'biasInit') ?? null;
  }

  private wsKey: { backend: Backend | null; n: number; threads: number; size: number } = { backend: null, n: -1, threads: -1, size: 0 };

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    if (inputShape.length !== 3 || inputShape[0] !== this.inChannels) {
      fail('range', `4-D input of shape [N, ${this.inChannels}, H, W]`, this.label(), `input shape [N, ${inputShape.join(', ')}]`);
    }
    const [kH, kW] = this.kernelSize;
    const outH = convOutputSize(inputShape[1], kH, this.stride[0], this.padding[0], this.dilation[0]);
    const outW = convOutputSize(inputShape[2], kW, this.stride[1], this.padding[1], this.dilation[1]);
    checkNonEmptyOutput(this.label(), inputShape, this.kernelSize, this.stride, this.padding, this.dilation, outH, outW);

    const g = this.groups;
    const fan = { fanIn: (kH * kW * this.inChannels) / g, fanOut: (kH * kW * this.outChannels) / g };
    this.addParam('weight', [this.outChannels, this.inChannels / g, kH, kW], this.weightInit, rng, { ...fan, role: 'weight' });
    if (this.hasBias) {
      const b = 1 / Math.sqrt(fan.fanIn);
      this.addParam('bias', [this.outChannels], this.biasInit ?? uniform(-b, b), rng, { ...fan, role: 'bias' });
    }
    return [this.outChannels, outH, outW];
  }

  /** The kernel geometry for a batch of n (one object, updated when n changes). */
  private params(n: number): GroupedConv2dParams {
    if (this.geom && this.geom.n === n) return this.geom;
    const [cIn, h, w] = this.inputShape!;
    const [, outH, outW] = this.outputShape!;
    this.geom = {
      n, cIn, h, w, cOut: this.outChannels,
      kH: this.kernelSize[0], kW: this.kernelSize[1],
      strideH: this.stride[0], strideW: this.stride[1],
      padH: this.padding[0], padW: this.padding[1],
      dilationH: this.dilation[0], dilationW: this.dilation[1],
      outH, outW, groups: this.groups,
    };
    return this.geom;
  }

  /**
   * The backend's scratch for this geometry, reallocated only when its size changes. The size is
   * asked once per batch size, backend and thread count (not before every pass).
   */
  private workspace(p: GroupedConv2dParams): Float32Array {
    const b = this.backend;
    const key = this.wsKey;
    if (key.backend !== b || key.n !== p.n || key.threads !== threadChanges()) {
      this.wsKey = { backend: b, n: p.n, threads: threadChanges(), size: b.conv2dWorkspaceSize(p) };
    }
    return this.scratch('workspace', this.wsKey.size);
  }

  protected forwardImpl(x: Tensor): Tensor {
    const p = this.params(x.shape[0]);
    const y = this.out('y', [p.n, p.cOut, p.outH, p.outW]);
    const bias = this.hasBias ? this.paramList[1].data : null;
    if (this.groups > 1) {
      this.backend.groupedConv2dForward(y.data, x.data, this.paramList[0].data, bias, p);
      return y;
    }
    this.backend.conv2dForward(y.data, x.data, this.paramList[0].data, bias, this.workspace(p), p);
    return y;
  }

  /**
   * Inference forward with the given weight and bias in place of the layer's own (a BatchNorm folded
   * in, lib/fuse.ts), max(·, 0) fused into the output pass when relu is set, and a MaxPool2d(2, 2)
   * after it when pool is set (output [n, cOut, ⌊outH/2⌋, ⌊outW/2⌋]). The input is checked
   * as forward() checks it; the output buffer is its own, and nothing is cached for backward().
   */
  forwardFused(input: unknown, w: Float32Array, bias: Float32Array | null, relu: boolean, pool = false): Tensor {
    const x = this.checkInput(input);
    const p = this.params(x.shape[0]);
    const shape = pool ? [p.n, p.cOut, Math.floor(p.outH / 2), Math.floor(p.outW / 2)] : [p.n, p.cOut, p.outH, p.outW];
    const y = this.out(pool ? 'fusedPool' : 'fused', shape);
    this.backend.conv2dForward(y.data, x.data, w, bias, this.workspace(p), p, relu, pool);
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    const x = this.cachedInput;
    const p = this.params(x.shape[0]);
    const w = this.paramList[0];
    const db = this.hasBias ? this.paramList[1].grad : null;
    const dx = this.needsInputGrad ? this.out('dx', x.shape as number[]) : this.zeros('dx', x.shape as number[]);
    if (this.groups > 1) {
      this.backend.groupedConv2dBackward(this.needsInputGrad ? dx.data : null, w.grad, db, x.data, w.data, dy.data, p);
      return dx;
    }
    // dw += dY·colsᵀ, db += Σ dy, dx = col2im(Wᵀ·dY) (skipped when nobody reads it)
    this.backend.conv2dBackward(this.needsInputGrad ? dx.data : null, w.grad, db, x.data, w.data, dy.data, this.workspace(p), p);
    return dx;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padding: this.samePadding ? 'same' : [...this.padding],
      dilation: [...this.dilation],
      ...(this.groups > 1 ? { groups: this.groups } : {}),
      bias: this.hasBias,
      ...initConfigs(this.weightInit, this.biasInit),
    };
  }
}
