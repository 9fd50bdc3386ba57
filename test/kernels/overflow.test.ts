// Sizes whose products wrap 64-bit or pass 2^32 elements: every glue family answers with a
// RangeError from the one checked multiply, never a crash. The calls run in a child process, so a
// SIGSEGV shows as a signal instead of taking the test runner down.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { native } from '../helpers';

const script = path.join(__dirname, '..', 'workers', 'overflow-calls.cjs');

describe('size products are checked in the glue', () => {
  it('the norm call that crashed, its siblings and every other family throw RangeError in a child process', () => {
    const addonPath = native.capabilities().addonPath!;
    const r = spawnSync(process.execPath, [script, addonPath], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(results.map((x) => x.name)).toEqual([
      'batchNormInference', 'batchNormForward', 'batchNormBackward', 'groupNormForward', 'groupNormBackward',
      'normReference.batchNormForward', 'normReference.groupNormBackward',
      'gemm', 'softmaxCrossEntropy', 'maxoutForward', 'biasAdd', 'conv2dForward', 'im2col', 'maxPool2dForward', 'avgPool2dBackward', 'tensorStats', 'globalAvgPoolForward',
    ]);
    for (const x of results) {
      expect(x.threw, x.name).toBe('RangeError');
      expect(x.message, x.name).toMatch(/^Expected at most 2\^32 elements for [a-z x]+ but received \d+( x \d+)+$/);
    }
    expect(results[0].message).toBe('Expected at most 2^32 elements for n x c x inner but received 2097152 x 2097152 x 4194304');
    expect(results[7].message).toBe('Expected at most 2^32 elements for a but received 2147483647 x 2147483647');
  });
});
