/**
 * One training step, shared by fit's in-thread loop and any other runner (a worker that owns its
 * own model copy uses the same function): zero the gradients, forward, loss, backward, update.
 *
 *   const step = createTrainStep({ model, loss, optimizer, accuracy: true });
 *   const { loss, correct } = step(xBatch, yBatch, { epoch, step: s, globalStep });
 *   ...
 *   step.verify({ epoch, step: s, globalStep });   // after the last step of an epoch
 *
 * The NaN/Inf guard. Before each step the state that step can change is copied (bulk copies into
 * two preallocated slots, no allocation): the parameters, every layer buffer (BatchNorm running
 * statistics, num_batches_tracked) and, for a stock Optimizer, its buffers and step count. A step
 * whose outputs or loss are not finite is the first sign of an update that diverged — the previous
 * step's — so the guard puts everything back to where it was before that previous step (the state
 * that last produced a finite loss and a finite update) and throws NonFiniteLossError naming the
 * epoch and step. The outputs are checked before the loss sees them, so the stock losses' own
 * "finite values" errors never pre-empt the guard. A step that throws (a custom loss refusing its
 * target, say) is undone to its start before the error propagates. verify() checks the parameters
 * once, for the last update of an epoch, which no following forward would catch.
 */
import type { Sequential } from '../model';
import { Optimizer, type OptimizerSnapshot } from '../optim/optimizer';
import type { Tensor } from '../tensor';
import { countCorrect } from './data';
import type { LossFn, OptimizerLike } from './types';

/** Error thrown by the NaN/Inf guard; the model keeps the weights of the last good step. */
export class NonFiniteLossError extends Error {
  constructor(message: string, readonly epoch: number, readonly step: number) {
    super(message);
    this.name = 'NonFiniteLossError';
  }
}

/** Where a step is: 0-based epoch and step within the epoch, and steps taken before it. */
export interface StepPosition {
  epoch: number;
  step: number;
  globalStep: number;
}

export interface StepResult {
  /** The batch's mean loss. */
  loss: number;
  /** Rows predicted right (0 unless `accuracy` was asked for). */
  correct: number;
}

export interface TrainStepOptions {
  model: Sequential;
  loss: LossFn;
  optimizer: OptimizerLike;
  /** Count correct predictions (class labels). Default false. */
  accuracy?: boolean;
}

/** A step function bound to its model, loss, optimizer and guard state. */
export interface TrainStep {
  (x: Tensor, y: Int32Array | Tensor, at: StepPosition): StepResult;
  /** Checks that the parameters are finite (after an epoch's last update); rolls back and throws if not. */
  verify(at: StepPosition): void;
}

/** Everything a step can change, copied into preallocated arrays. */
interface Slot {
  params: Float32Array;
  buffers: Float32Array[];
  opt: OptimizerSnapshot | undefined;
  taken: boolean;
}

function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

class Rollback {
  private readonly slots: [Slot, Slot];
  private readonly buffers: Float32Array[];
  constructor(private model: Sequential, private opt: Optimizer | null) {
    this.buffers = model.layers.flatMap((l) => l.buffers().map((b) => b.data));
    const slot = (): Slot => ({
      params: new Float32Array(model.parameters().data.length),
      buffers: this.buffers.map((b) => new Float32Array(b.length)),
      opt: undefined,
      taken: false,
    });
    this.slots = [slot(), slot()];
  }
  /** Copies the current state into the slot of global step g. */
  capture(g: number): void {
    const s = this.slots[g % 2];
    s.params.set(this.model.parameters().data);
    for (let i = 0; i < this.buffers.length; i++) s.buffers[i].set(this.buffers[i]);
    if (this.opt) s.opt = this.opt.captureState(s.opt);
    s.taken = true;
  }
  /** Puts back the state captured before global step g (the slot of g - 1 when it was taken, else g's). */
  restore(g: number, previous: boolean): void {
    let s = this.slots[g % 2];
    if (previous && g > 0 && this.slots[(g - 1) % 2].taken) s = this.slots[(g - 1) % 2];
    this.model.parameters().data.set(s.params);
    for (let i = 0; i < this.buffers.length; i++) this.buffers[i].set(s.buffers[i]);
    if (this.opt && s.opt) this.opt.restoreState(s.opt);
  }
}

function stopped(what: string, at: StepPosition): NonFiniteLossError {
  return new NonFiniteLossError(
    `Training stopped: ${what} at epoch ${at.epoch + 1}, step ${at.step + 1} (global step ${at.globalStep + 1}); ` +
      'the model, its buffers and the optimizer are back at the last good step. Lower the learning rate or check the data.',
    at.epoch,
    at.step,
  );
}

/** Makes the step function for a built model (see the header for the guard's contract). */
export function createTrainStep(o: TrainStepOptions): TrainStep {
  const { model, loss, optimizer } = o;
  const accuracy = o.accuracy ?? false;
  const arena = model.parameters();
  const rollback = new Rollback(model, optimizer instanceof Optimizer ? optimizer : null);

  const step = ((x: Tensor, y: Int32Array | Tensor, at: StepPosition): StepResult => {
    const g = at.globalStep;
    rollback.capture(g);
    let l: number;
    let out: Tensor;
    try {
      out = model.forward(x, { checkFinite: false }); // fit checked the data once
      if (!allFinite(out.data)) {
        rollback.restore(g, true);
        throw stopped('the model output became NaN or infinite', at);
      }
      l = loss.forward(out, y);
    } catch (e) {
      if (!(e instanceof NonFiniteLossError)) rollback.restore(g, false);
      throw e;
    }
    if (!Number.isFinite(l)) {
      rollback.restore(g, true);
      throw stopped(`the loss became ${l}`, at);
    }
    const correct = accuracy ? countCorrect(out, y as Int32Array) : 0;
    model.zeroGrad();
    model.backward(loss.backward());
    optimizer.step();
    return { loss: l, correct };
  }) as TrainStep;

  step.verify = (at: StepPosition): void => {
    if (allFinite(arena.data)) return;
    rollback.restore(at.globalStep, false);
    throw stopped('a parameter became NaN or infinite', at);
  };
  return step;
}
