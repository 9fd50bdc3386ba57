// tensor(): nested arrays and typed arrays with a shape, and the shape checks.
import { describe, it, expect } from 'vitest';
import { tensor } from '../lib/index';

describe('tensor()', () => {
  it('accepts nested arrays and Float32Array with a shape', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const u = tensor(new Float32Array(6), [3, 2]);
    expect(u.shape).toEqual([3, 2]);
  });
  it('checks shapes against data length and ragged arrays', () => {
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow(
      new RangeError('Expected 6 values for shape [2, 3] for data but received Float32Array of length 5'),
    );
    expect(() => tensor([[1, 2], [3]])).toThrow(
      new RangeError('Expected array of length 2 (ragged input; shape [2, 2]) for data[1] but received Array of length 1'),
    );
    expect(() => tensor(new Float32Array(6), [2, 0])).toThrow(
      new RangeError('Expected integer >= 1 for shape[1] but received 0 of type number'),
    );
    expect(() => tensor(new Float32Array(6), [2, -3])).toThrow(RangeError);
    expect(() => tensor(new Float64Array(6) as any, [2, 3])).toThrow(
      new TypeError('Expected Float32Array or nested number arrays for data but received Float64Array of length 6'),
    );
    expect(() => tensor([[1, 'a' as any]])).toThrow(new TypeError("Expected number for data[0][1] but received 'a' of type string"));
  });
});
