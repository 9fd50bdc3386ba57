// Benchmark utilities: median-of-repeats timing, table printing and the measured FMA ceiling.
import { performance } from 'perf_hooks';
import * as v8 from 'v8';
import * as vm from 'vm';
import { nativeAddon } from '../lib/testing';

export interface Timing {
  /** median milliseconds per call */
  ms: number;
  /** all repeat medians */
  samples: number[];
}

/**
 * Times fn: warms up, then runs `repeats` rounds, each long enough (>= minMs) to be measured, and
 * returns the median time per call.
 */
export function time(fn: () => void, { repeats = 7, minMs = 40, warmup = 2 } = {}): Timing {
  for (let i = 0; i < warmup; i++) fn();
  // calibrate iterations per round
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    const dt = performance.now() - t0;
    if (dt >= minMs || iters >= 1 << 20) break;
    iters = Math.max(iters * 2, Math.ceil((iters * minMs) / Math.max(dt, 0.01)));
  }
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    samples.push((performance.now() - t0) / iters);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { ms: sorted[Math.floor(sorted.length / 2)], samples };
}

/** Same for async functions (tfjs). */
export async function timeAsync(fn: () => Promise<void>, { repeats = 7, minMs = 40, warmup = 2 } = {}): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await fn();
    const dt = performance.now() - t0;
    if (dt >= minMs || iters >= 1 << 16) break;
    iters = Math.max(iters * 2, Math.ceil((iters * minMs) / Math.max(dt, 0.01)));
  }
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await fn();
    samples.push((performance.now() - t0) / iters);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  return { ms: sorted[Math.floor(sorted.length / 2)], samples };
}

let gcFn: (() => void) | null = null;

/**
 * A full garbage collection now (V8's gc(), reached without --expose-gc). A timed run that follows
 * another then does not pay for collecting the other's garbage: after an in-thread fit, the
 * background marking of its heap took cores from the next run's kernel threads (profiling: an off-thread fit
 * measured just after one ran at 0.62-0.78 of it, 0.85-0.91 with a collection in between).
 */
export function collectGarbage(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
}

export function table(title: string, header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[]) => '| ' + r.map((c, i) => String(c ?? '').padEnd(widths[i])).join(' | ') + ' |';
  const out = [`\n### ${title}\n`, line(cells[0]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|'];
  for (const r of cells.slice(1)) out.push(line(r));
  return out.join('\n');
}

export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** The FMA ceiling of the SIMD level in use, measured now: GFLOPS on [1 thread, 2 threads]. */
export function fmaCeilings(): [number, number] {
  const addon = nativeAddon();
  return [addon.fmaPeak(1, 300) as number, addon.fmaPeak(2, 300) as number];
}
