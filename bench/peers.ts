// Peers measured in the same run: TensorFlow.js (cpu and wasm backends, devDependencies) and
// numpy / PyTorch through Debian's /usr/bin/python3 when they are installed there.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export type Tf = typeof import('@tensorflow/tfjs');

let tfPromise: Promise<Tf> | null = null;

/** TensorFlow.js switched to the given backend ('cpu' or 'wasm'), or null with a reason logged. */
export async function loadTf(backend: 'cpu' | 'wasm'): Promise<Tf | null> {
  try {
    tfPromise ??= (async () => {
      const tf = await import('@tensorflow/tfjs');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
      wasm.setWasmPaths(path.join(dir, 'dist') + path.sep);
      return (tf as any).default ?? tf;
    })();
    const tf = await tfPromise;
    await tf.setBackend(backend);
    await tf.ready();
    if (tf.getBackend() !== backend) return null;
    return tf;
  } catch (e) {
    console.error(`tfjs-${backend} unavailable: ${(e as Error).message}`);
    return null;
  }
}

const PY = '/usr/bin/python3';

/** Whether /usr/bin/python3 can import the module (numpy, torch). */
export function pythonHas(mod: string): boolean {
  if (!fs.existsSync(PY)) return false;
  const r = spawnSync(PY, ['-c', `import ${mod}`], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * Runs a Python script from bench/py/ with JSON arguments and returns its JSON stdout (the last line),
 * or null when it failed (the reason is logged). `threads` sets OMP/MKL/OpenBLAS thread counts.
 */
export function runPython(script: string, args: unknown, threads = 1): any | null {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    MKL_NUM_THREADS: String(threads),
  };
  // Older OpenBLAS builds need these on some CPUs; they slow a current one, so benchmarks drop them.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(PY, [path.join(__dirname, 'py', script), JSON.stringify(args)], {
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) {
    console.error(`python ${script} failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
    return null;
  }
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}
