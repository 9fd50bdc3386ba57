// Thread behaviour: what the OpenMP wait policy costs and what it buys. Each configuration runs in
// its own process (the OpenMP runtime reads its variables once, as it loads):
//   library default   no OpenMP variable set: the library's short bounded spin
//   libgomp default   GOMP_SPINCOUNT=300000, what libgomp does when nothing is set
//   passive           OMP_WAIT_POLICY=passive: threads sleep as soon as they are idle
// For each: the CNN training step (batch 64, 2 threads) alone and beside one busy process (a spin
// loop on one core, standing in for another tenant of the machine), with the CPU time used per
// step, and one-row MLP predictions (2 threads; small work runs on one thread, so no policy matters).
import { spawn, spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { table, fmt } from './util';

const CONFIGS: [string, Record<string, string>][] = [
  ['library default', {}],
  ['libgomp default (GOMP_SPINCOUNT=300000)', { GOMP_SPINCOUNT: '300000' }],
  ['passive (OMP_WAIT_POLICY=passive)', { OMP_WAIT_POLICY: 'passive' }],
];
const CHILD = path.join(__dirname, 'threads-child.ts');
const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const MS = 2500;

interface Result { median: number; p90: number; calls: number; cpuMsPerCall: number; waitPolicy: string }

function child(mode: string, env: Record<string, string>, ms = MS): Result {
  const clean = { ...process.env };
  for (const k of ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'KMP_BLOCKTIME', 'KMP_LIBRARY']) delete clean[k];
  const r = spawnSync(TSX, [CHILD, mode, String(ms), '2'], { env: { ...clean, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`threads bench child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** Runs fn while a busy process spins on one core. */
function contended<T>(fn: () => T): T {
  const hog = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  try {
    return fn();
  } finally {
    hog.kill('SIGKILL');
  }
}

/** Interleaved pairs for the wait policy's cost (the uncontended 2-thread step swings between runs). */
const COST_PAIRS = 7;
const COST_MS = 1500;

/**
 * The library's wait policy against libgomp's own spinning on the uncontended CNN step: pairs of
 * child runs, their order alternating, so a change of the machine's load hits both sides of a pair;
 * the median of the pairs' ratios, and their range.
 */
function policyCost(): { ratio: number; lo: number; hi: number; ours: number; spin: number } {
  const ratios: number[] = [];
  const ours: number[] = [];
  const spin: number[] = [];
  const run = (env: Record<string, string>) => child('cnn', env, COST_MS).median;
  for (let i = 0; i < COST_PAIRS; i++) {
    let a: number, b: number;
    if (i % 2 === 0) {
      a = run(CONFIGS[0][1]);
      b = run(CONFIGS[1][1]);
    } else {
      b = run(CONFIGS[1][1]);
      a = run(CONFIGS[0][1]);
    }
    ours.push(a);
    spin.push(b);
    ratios.push(a / b);
  }
  const med = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];
  return { ratio: med(ratios), lo: Math.min(...ratios), hi: Math.max(...ratios), ours: med(ours), spin: med(spin) };
}

export async function run(): Promise<string> {
  const rows: (string | number)[][] = [];
  const load0 = os.loadavg()[0];
  let base = 0;
  for (const [name, env] of CONFIGS) {
    const alone = child('cnn', env);
    const busy = contended(() => child('cnn', env));
    const pred = contended(() => child('predict', env));
    if (!base) base = alone.median;
    rows.push([
      name, fmt(alone.median), `${((alone.median / base - 1) * 100).toFixed(1)}%`, fmt(alone.cpuMsPerCall),
      fmt(busy.median), fmt(busy.p90), fmt(busy.cpuMsPerCall), fmt(1000 / pred.median), alone.waitPolicy,
    ]);
  }
  const cost = policyCost();
  const costLine =
    `Cost of the library's wait policy on the uncontended CNN step (2 threads): ${fmt(cost.ours)} ms against ` +
    `${fmt(cost.spin)} ms with libgomp's spinning (medians), ratio ${cost.ratio.toFixed(3)} (median of ${COST_PAIRS} ` +
    `interleaved pairs of ${COST_MS / 1000} s runs; range ${cost.lo.toFixed(3)}–${cost.hi.toFixed(3)}); target ≤ 1.05: ` +
    (cost.ratio <= 1.05 ? 'met' : 'NOT met') + '.';
  return [
    `Load average ${load0.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (${os.cpus().length} cores); ` +
      `${MS / 1000} s per measurement, medians.`,
    '',
    costLine,
    table('OpenMP wait policy: CNN step (batch 64, 2 threads) and one-row MLP predictions', [
      'policy', 'step ms', 'vs library default', 'CPU ms / step', 'step ms, busy neighbour', 'p90', 'CPU ms / step',
      'predictions / s, busy neighbour', 'reported',
    ], rows),
  ].join('\n');
}
