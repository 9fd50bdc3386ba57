// One row of the bad-input matrix: a call that must throw `error` with a message of the project's
// form, naming `names` when given (e.g. 'for batchSize').
export type ErrorKind = 'TypeError' | 'RangeError';

export interface Case {
  name: string;
  run: () => unknown;
  error: ErrorKind;
  /** A fragment the message must contain, e.g. the argument's name as `for x`. */
  names?: string;
}

/** The project's one message form. */
export const MESSAGE_FORM = /^Expected .+ for .+ but received .+/s;

/** Cases for one option of one constructor: each bad value with the error it must raise. */
export function optionCases(
  label: string,
  make: (v: unknown) => unknown,
  option: string,
  bad: readonly (readonly [unknown, ErrorKind])[],
  names = option,
): Case[] {
  return bad.map(([v, error]) => ({
    name: `${label} ${option}: ${show(v)}`,
    run: () => make(v),
    error,
    names,
  }));
}

export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'function') return 'function';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length: number }).length})`;
  return (v as object).constructor?.name ?? 'object';
}

/** Bad values for a required integer >= 1. */
export const BAD_POSITIVE_INT: readonly (readonly [unknown, ErrorKind])[] = [
  [0, 'RangeError'],
  [-3, 'RangeError'],
  [2.5, 'RangeError'],
  [NaN, 'RangeError'],
  [Infinity, 'RangeError'],
  ['4', 'TypeError'],
  [null, 'TypeError'],
  [{}, 'TypeError'],
];

/** Bad values for a number option in [0, 1). */
export const BAD_FRACTION: readonly (readonly [unknown, ErrorKind])[] = [
  [-0.1, 'RangeError'],
  [1.5, 'RangeError'],
  [NaN, 'RangeError'],
  ['0.5', 'TypeError'],
  [null, 'TypeError'],
];

/** Bad values for a boolean option. */
export const BAD_BOOL: readonly (readonly [unknown, ErrorKind])[] = [
  [1, 'TypeError'],
  ['yes', 'TypeError'],
  [null, 'TypeError'],
];

/** Bad values for a non-negative finite number. */
export const BAD_NONNEG: readonly (readonly [unknown, ErrorKind])[] = [
  [-1, 'RangeError'],
  [NaN, 'RangeError'],
  [Infinity, 'RangeError'],
  ['1', 'TypeError'],
  [null, 'TypeError'],
];
