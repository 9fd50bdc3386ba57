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

function child(mode: string, env: Record<string, string>): Result {
  const clean = { ...process.env };
  for (const k of ['OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'KMP_BLOCKTIME', 'KMP_LIBRARY']) delete clean[k];
  const r = spawnSync(TSX, [CHILD, mode, String(MS), '2'], { env: { ...clean, ...env }, encoding: 'utf8' });
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
  return [
    `Load average ${load0.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end (${os.cpus().length} cores); ` +
      `${MS / 1000} s per measurement, medians.`,
    table('OpenMP wait policy: CNN step (batch 64, 2 threads) and one-row MLP predictions', [
      'policy', 'step ms', 'vs library default', 'CPU ms / step', 'step ms, busy neighbour', 'p90', 'CPU ms / step',
      'predictions / s, busy neighbour', 'reported',
    ], rows),
  ].join('\n');
}
