/**
 * fit's `scheduler` option as a callback: a closed-form schedule is stepped after every epoch or
 * every batch; ReduceLROnPlateau after every epoch with the log it monitors.
 */
import { ReduceLROnPlateau } from '../optim/plateau';
import { LRScheduler } from '../optim/schedules';
import { describe, fail } from '../validate';
import type { Callback, Logs, OptimizerLike, SchedulerLike } from './types';

export function schedulerCallback(scheduler: unknown, every: unknown, optimizer: OptimizerLike): Callback[] {
  if (every !== undefined && every !== 'epoch' && every !== 'batch') fail('range', "'epoch' or 'batch'", 'schedulerStep', describe(every));
  if (scheduler === undefined) {
    if (every !== undefined) fail('type', 'a scheduler to go with schedulerStep', 'scheduler', 'undefined');
    return [];
  }
  if (!(scheduler instanceof LRScheduler) && !(scheduler instanceof ReduceLROnPlateau)) {
    fail('type', 'LRScheduler or ReduceLROnPlateau', 'scheduler', describe(scheduler));
  }
  if ((scheduler as { optimizer: unknown }).optimizer !== optimizer) fail('range', "a schedule of fit's optimizer", 'scheduler', 'a schedule of another optimizer');
  if (scheduler instanceof ReduceLROnPlateau) {
    if (every === 'batch') fail('range', "'epoch' (ReduceLROnPlateau watches an epoch's logs)", 'schedulerStep', describe(every));
    return [{
      onEpochEnd(_epoch: number, logs: Logs) {
        const key = scheduler.monitor ?? (logs.valLoss !== undefined ? 'valLoss' : 'loss');
        const v = logs[key];
        if (v === undefined) fail('range', `a '${key}' log to monitor (give validation data or another monitor)`, 'ReduceLROnPlateau', 'logs without it');
        scheduler.step(v);
      },
    }];
  }
  const s = scheduler as SchedulerLike;
  return [every === 'batch' ? { onBatchEnd: () => s.step() } : { onEpochEnd: () => s.step() }];
}
