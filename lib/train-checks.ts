/**
 * Checks of the trainer's arguments (fit / evaluate / predict / EarlyStopping), each naming the
 * argument at fault in the project's message form; all run before training changes anything.
 */
import { Sequential } from './model';
import type { Callback, FitOptions, LossFn, Metric } from './train';
import { describe, fail, isDetached } from './validate';

/** Whether y holds class labels (integer arrays) rather than target values. */
export function isLabelArray(y: unknown): boolean {
  return y instanceof Int32Array || y instanceof Uint8Array || (Array.isArray(y) && (y.length === 0 || typeof y[0] === 'number'));
}

/** A loss that declares what it takes (the stock ones do) gets that kind of y, or fit names y. */
export function checkTargetKind(y: unknown, name: string, loss: LossFn | undefined): void {
  const kind = (loss as { targetKind?: unknown } | undefined)?.targetKind;
  const who = (loss as object | undefined)?.constructor?.name ?? 'the loss';
  if (kind === 'labels' && !isLabelArray(y)) fail('type', `Int32Array, Uint8Array or array of class indices (${who} takes class labels)`, name, describe(y));
  if (kind === 'values' && isLabelArray(y) && !Array.isArray(y)) fail('type', `tensor of targets (${who} takes values, not class labels)`, name, describe(y));
  if (ArrayBuffer.isView(y) && isDetached(y)) fail('range', 'an attached buffer', name, 'a detached buffer');
}

/** Callbacks: an array of objects whose hooks, where present, are functions. */
export function checkCallbacks(v: unknown): Callback[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail('type', 'array of callback objects', 'callbacks', describe(v));
  v.forEach((c, i) => {
    if (c === null || typeof c !== 'object') fail('type', 'callback object', `callbacks[${i}]`, describe(c));
    for (const hook of ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchEnd'] as const) {
      const f = (c as Record<string, unknown>)[hook];
      if (f !== undefined && typeof f !== 'function') fail('type', 'function', `callbacks[${i}].${hook}`, describe(f));
    }
  });
  return v as Callback[];
}

/** The progress stream: anything with a write method. */
export function checkOutput(v: unknown): NonNullable<FitOptions['output']> {
  if (v === undefined) return process.stdout;
  if (v === null || typeof v !== 'object' || typeof (v as { write?: unknown }).write !== 'function') {
    fail('type', 'writable stream (an object with write())', 'output', describe(v));
  }
  return v as NonNullable<FitOptions['output']>;
}

/** Metric names: an array of 'accuracy'. */
export function checkMetrics(v: unknown): Metric[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail('type', "array of metric names (e.g. ['accuracy'])", 'metrics', describe(v));
  v.forEach((m, i) => {
    if (m !== 'accuracy') fail('range', "'accuracy'", `metrics[${i}]`, describe(m));
  });
  return v as Metric[];
}

export function checkLoss(loss: unknown): LossFn {
  const l = loss as LossFn | null | undefined;
  if (!l || typeof l.forward !== 'function' || typeof l.backward !== 'function') fail('type', 'loss (e.g. new CrossEntropyLoss())', 'loss', describe(loss));
  return l;
}

export function checkModel(model: unknown): Sequential {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  return model;
}

/** An option's value, or its default when the option is absent (null is a value, and checked). */
export const given = <T>(v: T | undefined, d: T): T => (v === undefined ? d : v);
