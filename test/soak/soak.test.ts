// Soak: 10,000 training steps (fit with callbacks and a schedule, predict and evaluate along the
// way) of a small CNN in a child process; after warm-up the JS heap, external memory and RSS stay
// flat. A leak of one small typed array per step would add more than the bounds below.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'child_process';
import * as path from 'path';

const MB = 1024 * 1024;

describe('soak', () => {
  it('10,000 steps keep memory flat after warm-up', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(__dirname, 'soak-child.ts'), '10000'], {
      cwd: path.join(__dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 240_000,
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { steps: number; samples: { step: number; heap: number; external: number; rss: number }[] };
    expect(r.steps).toBe(10_000);
    expect(r.samples.length).toBe(10);
    const warm = r.samples.find((s) => s.step === 2000)!;
    const later = r.samples.filter((s) => s.step > 2000);
    const grow = (k: 'heap' | 'external' | 'rss') => Math.max(...later.map((s) => s[k])) - warm[k];
    expect(grow('heap')).toBeLessThan(1 * MB);
    expect(grow('external')).toBeLessThan(1 * MB);
    // Under AddressSanitizer freed memory sits in its quarantine, so RSS grows by design there.
    if (!/asan/.test(process.env.LD_PRELOAD ?? '')) expect(grow('rss')).toBeLessThan(8 * MB);
  }, 300_000);
});
