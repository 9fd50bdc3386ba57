/**
 * The trainer's side of exact resume: fit takes a saved TrainerState as `resume` (continuing the
 * generator and the sample order where they were) and reports its own state, so that two epochs,
 * a save, a load in a new process and two more epochs give the weights of four epochs straight.
 */
import type { Generator } from '../random';
import { describe, fail } from '../validate';
import type { TrainerState } from './state';

export type { TrainerState };

/** Checks a resume state against the data (n samples, nVal held out) and applies it. */
export function applyResume(
  state: unknown, rng: Generator, seed: number, n: number, split: boolean,
): { trainIndex: Int32Array<ArrayBuffer>; valIndex: Int32Array<ArrayBuffer> | null; epochs: number } {
  const s = state as TrainerState;
  if (s === null || typeof s !== 'object' || !(s.trainIndex instanceof Int32Array)) fail('type', 'trainer state (history.trainerState, or loadCheckpoint(path).trainer)', 'resume', describe(state));
  if (!Number.isInteger(s.epochs) || s.epochs < 0) fail('range', 'a non-negative epoch count', 'resume.epochs', describe(s.epochs));
  if (s.seed !== seed) fail('range', `the seed of the run it continues (${s.seed})`, 'seed', describe(seed));
  const val = s.valIndex ?? null;
  if (split !== (val !== null)) fail('range', split ? 'a state saved with a validation split' : 'a state saved without a validation split', 'resume', split ? 'one without' : 'one with');
  if (val !== null && !(val instanceof Int32Array)) fail('type', 'Int32Array', 'resume.valIndex', describe(val));
  const total = s.trainIndex.length + (val ? val.length : 0);
  if (total !== n) fail('range', `the sample order of ${n} samples (the data given)`, 'resume', `one of ${total}`);
  const seen = new Uint8Array(n);
  for (const idx of val ? [s.trainIndex, val] : [s.trainIndex]) {
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i];
      if (v < 0 || v >= n || seen[v]) fail('range', `a permutation of 0..${n - 1}`, 'resume sample order', `index ${v} at ${i}`);
      seen[v] = 1;
    }
  }
  rng.setState(s.rng);
  return { trainIndex: Int32Array.from(s.trainIndex), valIndex: val ? Int32Array.from(val) : null, epochs: s.epochs };
}

/** The state after `epochs` epochs (copies). */
export function trainerState(epochs: number, seed: number, rng: Generator, trainIndex: Int32Array, valIndex: Int32Array | null): TrainerState {
  return { epochs, seed, rng: rng.getState(), trainIndex: Int32Array.from(trainIndex), valIndex: valIndex ? Int32Array.from(valIndex) : null };
}
