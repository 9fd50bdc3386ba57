/**
 * Small layers residual and branch models need: Identity, Softmax over axis 1, and global average
 * pooling (GlobalAvgPool2d → [N, C]; AdaptiveAvgPool2d with output size 1 → [N, C, 1, 1], as
 * PyTorch's). Global pooling runs the backend's own kernel (a per-plane sum: native/kernels/global_pool.cc).
 */
import { Layer, LayerArgs } from './layer';
import type { Tensor } from '../tensor';
import { checkOptions, describe, fail } from '../validate';

/** y = x (a placeholder, or an explicit identity shortcut). */
export class Identity extends Layer {
  readonly className: string = 'Identity';
  constructor(args: LayerArgs = {}) {
    checkOptions(args, ['name', 'backend'], 'Identity');
    super(args, 'Identity');
  }
  protected buildImpl(inputShape: number[]): number[] {
    return inputShape;
  }
  protected forwardImpl(x: Tensor): Tensor {
    return x;
  }
  protected backwardImpl(dy: Tensor): Tensor {
    return dy;
  }
}

/**
 * Softmax over axis 1 (classes of [N, C], channels of [N, C, ...]): y = exp(x − max) / Σ exp(x − max).
 * For inference: train with CrossEntropyLoss on the logits (which applies log-softmax itself);
 * backward is exact (dx = y ⊙ (dy − Σ dy ⊙ y)) so the layer can also sit inside a model.
 */
export class Softmax extends Layer {
  readonly className: string = 'Softmax';
  constructor(args: LayerArgs = {}) {
    checkOptions(args, ['name', 'backend'], 'Softmax');
    super(args, 'Softmax');
  }
  protected buildImpl(inputShape: number[]): number[] {
    return inputShape;
  }
  private dims(): [number, number] {
    const s = this.inputShape!;
    return [s[0], s.slice(1).reduce((a, b) => a * b, 1)];
  }
  protected forwardImpl(x: Tensor): Tensor {
    const [c, inner] = this.dims();
    const n = x.shape[0];
    const y = this.out('y', x.shape as number[]);
    const xd = x.data, yd = y.data;
    for (let s = 0; s < n; s++) {
      for (let j = 0; j < inner; j++) {
        const base = s * c * inner + j;
        let m = -Infinity;
        for (let k = 0; k < c; k++) m = Math.max(m, xd[base + k * inner]);
        let sum = 0;
        for (let k = 0; k < c; k++) {
          const e = Math.exp(xd[base + k * inner] - m);
          yd[base + k * inner] = e;
          sum += e;
        }
        const r = 1 / sum;
        for (let k = 0; k < c; k++) yd[base + k * inner] *= r;
      }
    }
    return y;
  }
  protected backwardImpl(dy: Tensor): Tensor {
    const [c, inner] = this.dims();
    const n = dy.shape[0];
    const y = this.lastOutput()!.data;
    const dx = this.out('dx', dy.shape as number[]);
    for (let s = 0; s < n; s++) {
      for (let j = 0; j < inner; j++) {
        const base = s * c * inner + j;
        let dot = 0;
        for (let k = 0; k < c; k++) dot += dy.data[base + k * inner] * y[base + k * inner];
        for (let k = 0; k < c; k++) dx.data[base + k * inner] = y[base + k * inner] * (dy.data[base + k * inner] - dot);
      }
    }
    return dx;
  }
}

/** Mean of each channel's plane through the backend's global average pooling kernel. */
abstract class GlobalPool extends Layer {
  protected checkInputShape(inputShape: number[]): void {
    if (inputShape.length !== 3) fail('range', '4-D input of shape [N, C, H, W]', this.label(), `input shape [N, ${inputShape.join(', ')}]`);
  }
  protected forwardImpl(x: Tensor): Tensor {
    const [c, h, w] = this.inputShape!;
    const n = x.shape[0];
    const y = this.out('y', [n, ...this.outputShape!]);
    this.backend.globalAvgPoolForward(y.data, x.data, n, c, h * w);
    return y;
  }
  protected backwardImpl(dy: Tensor): Tensor {
    const [c, h, w] = this.inputShape!;
    const x = this.cachedInput;
    const dx = this.out('dx', x.shape as number[]);
    this.backend.globalAvgPoolBackward(dx.data, dy.data, x.shape[0], c, h * w);
    return dx;
  }
}

/** [N, C, H, W] → [N, C]: the mean of each plane (global average pooling and flatten in one). */
export class GlobalAvgPool2d extends GlobalPool {
  readonly className: string = 'GlobalAvgPool2d';
  constructor(args: LayerArgs = {}) {
    checkOptions(args, ['name', 'backend'], 'GlobalAvgPool2d');
    super(args, 'GlobalAvgPool2d');
  }
  protected buildImpl(inputShape: number[]): number[] {
    this.checkInputShape(inputShape);
    return [inputShape[0]];
  }
}

export interface AdaptiveAvgPool2dArgs extends LayerArgs {
  /** Output height and width: 1 or [1, 1] (the global mean; other sizes are not supported). Default 1. */
  outputSize?: number | [number, number];
}

/** [N, C, H, W] → [N, C, 1, 1], PyTorch's AdaptiveAvgPool2d(1). */
export class AdaptiveAvgPool2d extends GlobalPool {
  readonly className: string = 'AdaptiveAvgPool2d';
  /** `new AdaptiveAvgPool2d(1)` as in PyTorch, or an options object. */
  constructor(args: AdaptiveAvgPool2dArgs | number | [number, number] = {}) {
    if (typeof args === 'number' || Array.isArray(args)) args = { outputSize: args };
    checkOptions(args, ['outputSize', 'name', 'backend'], 'AdaptiveAvgPool2d');
    const o = args.outputSize ?? 1;
    if (!(o === 1 || (Array.isArray(o) && o.length === 2 && o[0] === 1 && o[1] === 1))) {
      fail('range', 'outputSize 1 or [1, 1] (the global average)', 'outputSize', describe(o));
    }
    super(args, 'AdaptiveAvgPool2d');
  }
  protected buildImpl(inputShape: number[]): number[] {
    this.checkInputShape(inputShape);
    return [inputShape[0], 1, 1];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), outputSize: [1, 1] };
  }
}
