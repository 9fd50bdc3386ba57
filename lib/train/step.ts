/**
 * One training step, shared by fit's in-thread loop and any other runner (a worker that owns its
 * own model copy uses the same function): forward, loss, zero the gradients, backward, update.
 *
 *   const step = createTrainStep({ model, loss, optimizer, accuracy: true });
 *   const { loss, correct } = step(xBatch, yBatch, { epoch, step: s, globalStep });
 *   ...
 *   step.verify({ epoch, step: s, globalStep });   // after the last step of an epoch
 *
 * The NaN/Inf guard, and what it promises. Only the optimizer's update changes the weights and the
 * optimizer state; forward changes only the layer buffers (BatchNorm running statistics,
 * num_batches_tracked), which are small. So a step copies its buffers before forward (into one of
 * two small preallocated sets), checks the outputs and the loss, and only then — once the step is
 * known to go ahead — copies the weights and the optimizer state (into one preallocated slot) after
 * backward, and checks that the update itself wrote finite weights. A stock optimizer does the
 * copies, the update and the check in the update's own pass (Optimizer.stepGuarded: the backend's
 * guarded kernels copy, update and check each arena chunk by chunk while the chunk is in cache,
 * where separate copies and a separate check would each be one more pass over memory). Otherwise —
 * another optimizer, SGD's first momentum step, arenas that are not views of the model's weights —
 * the weights and the state are copied (one bulk copy each) just before the update reads them, and
 * after it one native pass over the weights (the backend's paramStats: a sum of squares in double,
 * finite exactly when every weight is) checks them. Either way the same values are saved and
 * checked. Hence:
 * - non-finite outputs or loss at step g: the update of step g - 1 made the model diverge (weights
 *   too large to be useful, though finite); the weights, buffers and optimizer state go back to
 *   before step g - 1 (to before step g when g is the first step of this run);
 * - a non-finite weight written by the update of step g: back to before step g;
 * - a step that throws (a custom loss refusing its target, say): back to its start;
 * each then throws (NonFiniteLossError naming the epoch and the step, or the error itself). The
 * outputs are checked before the loss sees them, so the stock losses' own "finite values" errors
 * never pre-empt the guard. verify() checks the weights once more (a callback may have changed
 * them between steps) and rolls back to before the last step if they are not finite. A custom
 * optimizer (not an Optimizer) gets its weights restored but not its own state.
 */
import type { Sequential } from '../model';
import { Optimizer, type OptimizerSnapshot } from '../optim/optimizer';
import type { Tensor } from '../tensor';
import { getBackend } from '../backend/index';
import { allFinite, countCorrect } from './data';
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

/**
 * The arrays the guard copies into. A runner that trains the same model again (fit, call after
 * call) hands them back in, so they are allocated once, not once per run.
 */
export interface GuardBuffers {
  params: Float32Array;
  opt: OptimizerSnapshot | undefined;
  optimizer: Optimizer | null;
  start: Float32Array[];
  prev: Float32Array[];
}

function sameSizes(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((x, i) => x.length === b[i].length);
}

/**
 * The guard's copies: the layer buffers at the start of the current step and of the last step
 * that went ahead, and the weights and optimizer state before that step's update. They live in
 * one GuardBuffers object, kept current, which a later run over the same model can take over.
 */
class Rollback {
  private readonly live: Float32Array[];
  readonly b: GuardBuffers;
  /** Whether a step has gone ahead (params, opt and prev hold the state before its update). */
  private committed = false;
  constructor(private model: Sequential, optimizer: Optimizer | null, reuse: GuardBuffers | null) {
    this.live = model.layers.flatMap((l) => l.buffers().map((b) => b.data));
    const n = model.parameters().data.length;
    const fits = reuse !== null && reuse.params.length === n && sameSizes(reuse.start, this.live) && sameSizes(reuse.prev, this.live);
    this.b = {
      params: fits ? reuse.params : new Float32Array(n),
      // a snapshot is only reused by the optimizer that took it (captureState and stepGuarded resize
      // what differs); a fresh one starts empty, for them to size
      opt: (fits && reuse.optimizer === optimizer ? reuse.opt : undefined) ?? (optimizer ? { step: 0, buffers: optimizer.params.map(() => ({})) } : undefined),
      optimizer,
      start: fits ? reuse.start : this.live.map((b) => new Float32Array(b.length)),
      prev: fits ? reuse.prev : this.live.map((b) => new Float32Array(b.length)),
    };
  }
  /** Before forward: the buffers forward is about to change. */
  begin(): void {
    const start = this.b.start;
    for (let i = 0; i < this.live.length; i++) start[i].set(this.live[i]);
  }
  /**
   * The step goes ahead: its update, with the copies of the weights and the optimizer state before
   * it, and whether the weights it wrote are finite. Fused where the optimizer can (stepGuarded),
   * else copy, step and check in turn. When the update throws, the copies are taken all the same.
   */
  update(optimizer: OptimizerLike, finite: (a: Float32Array) => boolean, weights: Float32Array): boolean {
    const b = this.b;
    if (b.optimizer && b.opt) {
      let ok: boolean | null;
      try {
        ok = b.optimizer.stepGuarded(this.model.parameters().data, b.params, b.opt);
      } catch (e) {
        this.advance(); // stepGuarded has left the copies complete
        throw e;
      }
      if (ok !== null) {
        this.advance();
        return ok;
      }
    }
    // copied right before the update, which reads the same arrays next (they stay in cache)
    this.commit();
    optimizer.step();
    return finite(weights);
  }
  /** Copy the weights and the optimizer state before the update. */
  private commit(): void {
    const b = this.b;
    b.params.set(this.model.parameters().data);
    if (b.optimizer) b.opt = b.optimizer.captureState(b.opt);
    this.advance();
  }
  /** params and opt hold the state before this step's update: its start buffers become prev. */
  private advance(): void {
    const b = this.b;
    const t = b.prev;
    b.prev = b.start;
    b.start = t;
    this.committed = true;
  }
  /** Back to the start of the current step (nothing but the buffers has changed yet). */
  undoStart(): void {
    this.put(this.b.start);
  }
  /** Back to before the last step that went ahead (or to the current start when none has). */
  undoLast(): void {
    if (!this.committed) return this.undoStart();
    const b = this.b;
    this.model.parameters().data.set(b.params);
    if (b.optimizer && b.opt) b.optimizer.restoreState(b.opt);
    this.put(b.prev);
  }
  private put(from: Float32Array[]): void {
    for (let i = 0; i < this.live.length; i++) this.live[i].set(from[i]);
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

/** Forward and loss, checked; the guard's buffers are back at the step's start if either fails. */
function forwardLoss(o: TrainStepOptions, rollback: Rollback, finite: (a: Float32Array) => boolean, x: Tensor, y: Int32Array | Tensor, at: StepPosition) {
  let l: number;
  let out: Tensor;
  try {
    out = o.model.forward(x, { checkFinite: false }); // the runner checked the data
    if (!finite(out.data)) {
      rollback.undoLast();
      throw stopped('the model output became NaN or infinite', at);
    }
    l = o.loss.forward(out, y);
  } catch (e) {
    if (!(e instanceof NonFiniteLossError)) rollback.undoStart();
    throw e;
  }
  if (!Number.isFinite(l)) {
    rollback.undoLast();
    throw stopped(`the loss became ${l}`, at);
  }
  return { out, l };
}

/** Makes the step function for a built model (see the header for the guard's contract). */
export function createTrainStep(o: TrainStepOptions): TrainStep {
  return makeTrainStep(o, null);
}

/**
 * createTrainStep with the guard's arrays of an earlier run over the same model (or null). The
 * caller makes sure no other step over the model is in use meanwhile: fit trains a model in one
 * run at a time. step.guardBuffers() is the object the step keeps current, for the next run.
 */
export function makeTrainStep(o: TrainStepOptions, reuse: GuardBuffers | null): TrainStep & { guardBuffers(): GuardBuffers } {
  const { model, loss, optimizer } = o;
  const accuracy = o.accuracy ?? false;
  const arena = model.parameters();
  const backend = arena.backend ?? model.backend ?? getBackend();
  const scratch = new Float64Array(3);
  const finite = (a: Float32Array) => allFinite(backend, a, scratch);
  const rollback = new Rollback(model, optimizer instanceof Optimizer ? optimizer : null, reuse);

  const step = ((x: Tensor, y: Int32Array | Tensor, at: StepPosition): StepResult => {
    rollback.begin();
    const { out, l } = forwardLoss(o, rollback, finite, x, y, at);
    const correct = accuracy ? countCorrect(out, y as Int32Array) : 0;
    try {
      model.zeroGrad();
      model.backward(loss.backward());
    } catch (e) {
      rollback.undoStart();
      throw e;
    }
    let ok: boolean;
    try {
      ok = rollback.update(optimizer, finite, arena.data);
    } catch (e) {
      rollback.undoLast(); // the state before this step's update: its start
      throw e;
    }
    if (!ok) {
      rollback.undoLast();
      throw stopped('a parameter became NaN or infinite', at);
    }
    return { loss: l, correct };
  }) as TrainStep & { guardBuffers(): GuardBuffers };
  step.guardBuffers = () => rollback.b;

  step.verify = (at: StepPosition): void => {
    if (finite(arena.data)) return;
    rollback.undoLast();
    throw stopped('a parameter became NaN or infinite', at);
  };
  return step;
}
