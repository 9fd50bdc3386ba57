/**
 * Optimizers, gradient clipping and learning-rate schedules, with torch.optim (1.13) semantics.
 *
 * An optimizer updates parameter arenas (lib/params.ts): a model exposes its parameters as one
 * arena, so `step()` is one kernel call; layers used on their own can be passed as an array of
 * arenas (one call each). Nothing is allocated per step: state buffers are made once.
 *
 *   const opt = new AdamW(model.parameters(), { lr: 1e-3 });
 *   const sched = new SequentialLR(opt, {
 *     schedulers: [new LinearWarmup(opt, { warmupSteps: 100, startFactor: 0.1 }),
 *                  new CosineAnnealingLR(opt, { tMax: 900 })],
 *     milestones: [100],
 *   });
 *   for (...) { opt.zeroGrad(); ...backward...; clipGradNorm(model.parameters(), 1); opt.step(); sched.step(); }
 *
 * Files: checks.ts (option checks), optimizer.ts (the base class), sgd.ts, adam.ts, rmsprop.ts,
 * clip.ts, schedules.ts.
 */
export { checkParams } from './checks';
export type { Params } from './checks';
export { Optimizer } from './optimizer';
export type { OptimizerSnapshot, OptimizerState } from './optimizer';
export { SGD } from './sgd';
export type { SGDOptions } from './sgd';
export { Adam, AdamW } from './adam';
export type { AdamOptions } from './adam';
export { RMSProp } from './rmsprop';
export type { RMSPropOptions } from './rmsprop';
export { clipGradNorm, clipGradValue } from './clip';
export {
  LRScheduler, StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup, SequentialLR,
} from './schedules';
export type {
  StepLROptions, ExponentialLROptions, CosineAnnealingLROptions, LinearWarmupOptions, SequentialLROptions,
} from './schedules';
export { ReduceLROnPlateau, OneCycleLR } from './plateau';
export type { ReduceLROnPlateauOptions, OneCycleLROptions } from './plateau';
