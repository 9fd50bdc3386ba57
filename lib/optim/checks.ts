/**
 * Option checks shared by the optimizers and schedules: the alias hint for names from other
 * libraries, hyper-parameter ranges, parameter arenas and loaded state buffers.
 */
import type { ParamArena } from '../params';
import { checkNumber, checkOptions, describe, fail, isDetached } from '../validate';

/** One arena, or several (layers used standalone). */
export type Params = ParamArena | readonly ParamArena[];


/** Checks an options object (undefined is none) and returns it as a record. */
export function checkOpts(opts: unknown, known: readonly string[], name: string): Record<string, unknown> {
  if (opts === undefined) return {};
  checkOptions(opts, known, name);
  return opts as Record<string, unknown>;
}

export function checkLr(v: unknown, name = 'lr'): number {
  return checkNumber(v, name, 0);
}

/** A number in [0, 1): betas. */
export function checkUnit(v: unknown, name: string): number {
  checkNumber(v, name, -Infinity, Infinity, 'number in [0, 1)');
  if (!((v as number) >= 0 && (v as number) < 1)) fail('range', 'number in [0, 1)', name, describe(v));
  return v as number;
}

export function checkPositive(v: unknown, name: string): number {
  checkNumber(v, name, -Infinity, Infinity, 'finite number > 0');
  if (!((v as number) > 0)) fail('range', 'finite number > 0', name, describe(v));
  return v as number;
}

export function checkArena(a: unknown, name: string): ParamArena {
  if (a === null || typeof a !== 'object' || Array.isArray(a) || ArrayBuffer.isView(a)) {
    fail('type', 'parameter arena ({ data, grad, views })', name, describe(a));
  }
  const { data, grad } = a as { data?: unknown; grad?: unknown };
  if (!(data instanceof Float32Array)) fail('type', 'Float32Array', `${name}.data`, describe(data));
  if (!(grad instanceof Float32Array)) fail('type', 'Float32Array', `${name}.grad`, describe(grad));
  if (isDetached(data)) fail('range', 'an attached Float32Array', `${name}.data`, 'a detached buffer');
  if (isDetached(grad)) fail('range', 'an attached Float32Array', `${name}.grad`, 'a detached buffer');
  if (grad.length !== data.length) {
    fail('range', `Float32Array of length ${data.length} (as ${name}.data)`, `${name}.grad`, describe(grad));
  }
  return a as ParamArena;
}

/** Arenas from one arena or a non-empty array of them. */
export function checkParams(params: unknown, name = 'params'): ParamArena[] {
  if (Array.isArray(params)) {
    if (params.length === 0) fail('range', 'at least one parameter arena', name, 'an empty array');
    return params.map((a, i) => checkArena(a, `${name}[${i}]`));
  }
  return [checkArena(params, name)];
}

/** A plain array of numbers of the given length, as a Float32Array (for loading state). */
export function checkNumbers(v: unknown, name: string, length: number, nonNegative = false): Float32Array {
  if (!Array.isArray(v) && !(v instanceof Float32Array)) fail('type', 'array of numbers', name, describe(v));
  const a = v as ArrayLike<unknown>;
  if (a.length !== length) fail('range', `array of ${length} numbers`, name, describe(v));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const x = a[i];
    if (typeof x !== 'number') fail('type', 'number', `${name}[${i}]`, describe(x));
    if (!Number.isFinite(x) || (nonNegative && x < 0)) fail('range', nonNegative ? 'finite number >= 0' : 'finite number', `${name}[${i}]`, describe(x));
    out[i] = x;
  }
  return out;
}

export const EMPTY = new Float32Array(0);
