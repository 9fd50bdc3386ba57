/**
 * Shape-only layers: Flatten ([N, ...] → [N, prod(...)], a view: no copy) and Dropout.
 */
import { Layer, LayerArgs } from './layer';
import { Generator } from '../random';
import type { Tensor } from '../tensor';
import { checkNumber, checkOptions, describe, fail, StateError } from '../validate';

/** [N, d1, d2, ...] → [N, d1·d2·...]. The output shares the input's data. */
export class Flatten extends Layer {
  readonly className: string = 'Flatten';
  constructor(args: LayerArgs = {}) {
    checkOptions(args, ['name', 'backend'], 'Flatten');
    super(args, 'Flatten');
  }
  protected buildImpl(inputShape: number[]): number[] {
    return [inputShape.reduce((a, b) => a * b, 1)];
  }
  protected forwardImpl(x: Tensor): Tensor {
    return { data: x.data, shape: [x.shape[0], this.outputShape![0]] };
  }
  protected backwardImpl(dy: Tensor): Tensor {
    return { data: dy.data, shape: [dy.shape[0], ...this.inputShape!] };
  }
}

export interface DropoutArgs extends LayerArgs {
  /** Probability of zeroing a value, in [0, 1). Default 0.5. */
  p?: number;
}

/**
 * Inverted dropout: in training mode each value is zeroed with probability p and the survivors are
 * scaled by 1/(1−p), so evaluation mode is the identity. The mask comes from a generator seeded at
 * build time from the model's generator.
 */
export class Dropout extends Layer {
  readonly className: string = 'Dropout';
  readonly p: number;
  private rng: Generator | null = null;
  private maskUsed = false;

  constructor(args: DropoutArgs = {}) {
    checkOptions(args, ['p', 'name', 'backend'], 'Dropout');
    super(args, 'Dropout');
    this.p = args.p === undefined ? 0.5 : checkNumber(args.p, 'p', 0, 1, 'number in [0, 1)');
    if (this.p >= 1) fail('range', 'number in [0, 1)', 'p', describe(this.p));
  }

  protected buildImpl(inputShape: number[], rng: Generator): number[] {
    this.rng = new Generator(rng.nextU32());
    return inputShape;
  }

  protected forwardImpl(x: Tensor): Tensor {
    if (!this.training || this.p === 0) {
      this.maskUsed = false;
      return x;
    }
    const n = x.data.length;
    const mask = this.scratch('mask', n);
    const y = this.out('y', x.shape as number[]);
    const keep = 1 - this.p;
    const scale = 1 / keep;
    const rng = this.rng!;
    for (let i = 0; i < n; i++) {
      const m = rng.uniform() < keep ? scale : 0;
      mask[i] = m;
      y.data[i] = x.data[i] * m;
    }
    this.maskUsed = true;
    return y;
  }

  protected backwardImpl(dy: Tensor): Tensor {
    if (!this.maskUsed) return dy;
    const mask = this.scratch('mask', dy.data.length);
    const dx = this.out('dx', dy.shape as number[]);
    for (let i = 0; i < mask.length; i++) dx.data[i] = dy.data[i] * mask[i];
    return dx;
  }

  /** The mask generator's state (null before build), for checkpoints. */
  generatorState(): number[] | null {
    return this.rng ? this.rng.getState() : null;
  }
  setGeneratorState(state: unknown): void {
    if (!this.rng) throw new StateError(`${this.label()}: not built yet; build before restoring its generator`);
    this.rng.setState(state);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), p: this.p };
  }
}
