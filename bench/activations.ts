// Activations benchmark: GB/s (bytes read + written) of each activation forward and backward on 16M
// and 1M floats — native with 1 and 2 threads, js, tfjs cpu and wasm (forward only) — against a
// memcpy baseline (the addon's copyBuffer: memcpy in static chunks over the same threads).
import { jsBackend, nativeAddon, nativeBackend } from '../lib/testing';
import type { ActivationKind, Backend } from '../lib/backend/types';
import { loadTf } from './peers';
import { table, time } from './util';

const KINDS: ActivationKind[] = ['relu', 'leaky_relu', 'elu', 'sigmoid', 'tanh'];
const ALPHA: Record<ActivationKind, number> = { relu: 0, leaky_relu: 0.01, elu: 1, sigmoid: 0, tanh: 0 };
// floats moved per element: forward reads x, writes y; backward reads what the kind needs + dy, writes dx
const FWD_FLOATS = 2;
const BWD_FLOATS: Record<ActivationKind, number> = { relu: 3, leaky_relu: 3, elu: 4, sigmoid: 3, tanh: 3 };
const TF_OP: Record<ActivationKind, string> = { relu: 'relu', leaky_relu: 'leakyRelu', elu: 'elu', sigmoid: 'sigmoid', tanh: 'tanh' };

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 4294967296) * 8 - 4;
  }
  return a;
}

const gbps = (floats: number, n: number, ms: number) => (floats * 4 * n) / (ms * 1e6);

function check(native: Backend, js: Backend): void {
  const n = 1003;
  const x = fill(n, 1), dy = fill(n, 2);
  for (const k of KINDS) {
    const a = new Float32Array(n), b = new Float32Array(n), da = new Float32Array(n), db = new Float32Array(n);
    native.activation(k, a, x, n, ALPHA[k]);
    js.activation(k, b, x, n, ALPHA[k]);
    native.activationBackward(k, da, x, b, dy, n, ALPHA[k]);
    js.activationBackward(k, db, x, b, dy, n, ALPHA[k]);
    for (let i = 0; i < n; i++) {
      if (Math.abs(a[i] - b[i]) > 2e-6 * Math.abs(b[i]) + 1e-30 || Math.abs(da[i] - db[i]) > 1e-5 * Math.abs(db[i]) + 1e-7)
        throw new Error(`${k}: native and js differ at ${i}`);
    }
  }
}

export async function run(): Promise<string> {
  const native = nativeBackend();
  const js = jsBackend();
  const addon = nativeAddon();
  check(native, js);
  const opts = { repeats: 5, minMs: 30, warmup: 1 };
  const threads0 = native.getNumThreads();
  const out: string[] = [];
  const header = ['op', 'native 1T', 'native 2T', 'js', 'tfjs cpu', 'tfjs wasm'];
  const notes: string[] = [];
  for (const n of [16 << 20, 1 << 20]) {
    const x = fill(n, 3), y = new Float32Array(n), dy = fill(n, 4), dx = new Float32Array(n);
    const rows: (string | number)[][] = [];
    // memcpy baselines
    const copy: number[] = [];
    for (const t of [1, 2]) {
      native.setNumThreads(t);
      copy.push(gbps(2, n, time(() => addon.copyBuffer(y, x, n), opts).ms));
    }
    const setMs = time(() => y.set(x), opts).ms;
    rows.push(['memcpy (copyBuffer; js column: Float32Array.set)', copy[0], copy[1], gbps(2, n, setMs), '', '']);
    const reluNative: number[] = [];
    for (const k of KINDS) {
      const a = ALPHA[k];
      const fwd: number[] = [], bwd: number[] = [];
      for (const t of [1, 2]) {
        native.setNumThreads(t);
        fwd.push(gbps(FWD_FLOATS, n, time(() => native.activation(k, y, x, n, a), opts).ms));
        bwd.push(gbps(BWD_FLOATS[k], n, time(() => native.activationBackward(k, dx, x, y, dy, n, a), opts).ms));
      }
      if (k === 'relu') reluNative.push(...fwd);
      const jf = gbps(FWD_FLOATS, n, time(() => js.activation(k, y, x, n, a), opts).ms);
      const jb = gbps(BWD_FLOATS[k], n, time(() => js.activationBackward(k, dx, x, y, dy, n, a), opts).ms);
      const tfCells: (string | number)[] = [];
      for (const be of ['cpu', 'wasm'] as const) {
        const tf = await loadTf(be);
        if (!tf) {
          tfCells.push('n/a');
          continue;
        }
        const tx = tf.tensor1d(x);
        const op = (tf as any)[TF_OP[k]] as (t: unknown, ...r: unknown[]) => any;
        const f = () => {
          const r = k === 'leaky_relu' ? op(tx, a) : op(tx);
          r.dataSync();
          r.dispose();
        };
        tfCells.push(gbps(FWD_FLOATS, n, time(f, opts).ms));
        tx.dispose();
      }
      rows.push([`${k} forward`, fwd[0], fwd[1], jf, tfCells[0], tfCells[1]]);
      rows.push([`${k} backward`, bwd[0], bwd[1], jb, '', '']);
    }
    out.push(table(`Activations, ${n >> 20}M floats, GB/s (read + write bytes)`, header, rows));
    notes.push(
      `${n >> 20}M: ReLU forward / memcpy = ${(reluNative[0] / copy[0]).toFixed(2)} (1 thread), ` +
        `${(reluNative[1] / copy[1]).toFixed(2)} (2 threads)`,
    );
  }
  native.setNumThreads(threads0);
  out.push(
    '\n' + notes.join('\n') +
      '\nmemcpy baseline: the addon\'s copyBuffer (memcpy in static chunks over the threads). tfjs times include ' +
      'dataSync() of the result (a copy out of wasm memory for the wasm backend); tfjs backward is not measured.',
  );
  return out.join('\n');
}
