// Shared by the ONNX export tests: onnxruntime-node (when it loads), Debian's onnx checker (when
// installed), models with running statistics and norm affines away from their initial values, and
// the comparison of ONNX Runtime's outputs with ours at batch 3 and 1.
import { expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { createRequire } from 'module';
import { tensor, exportOnnx, Layer } from '../../lib/index';
import type { Sequential, Tensor } from '../../lib/index';
import { randn } from '../helpers';

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node, or null with a warning naming the test file that skips. */
export function loadOrt(file: string): Ort | null {
  try {
    return createRequire(__filename)('onnxruntime-node') as Ort;
  } catch (e) {
    console.warn(`${file}: skipping the ONNX Runtime checks: onnxruntime-node does not load (${(e as Error).message.split('\n')[0]}); run npm install`);
    return null;
  }
}

export const PY = '/usr/bin/python3';

/** Whether Debian's python3 has onnx (warns, naming the test file, when not). */
export function hasOnnxChecker(file: string): boolean {
  const ok = spawnSync(PY, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
  if (!ok) console.warn(`${file}: skipping the ONNX checker: ${PY} has no onnx (Debian: apt-get install python3-onnx)`);
  return ok;
}

export const tmpDir = (tag: string) => fs.mkdtempSync(path.join(os.tmpdir(), `minibatch-${tag}-`));

/** Every leaf layer of a tree (containers walked through childEntries). */
export function leaves(l: Layer): Layer[] {
  const kids = (l as Layer & { childEntries?: () => Array<[string, Layer]> }).childEntries;
  return kids ? kids.call(l).flatMap(([, c]) => leaves(c)) : [l];
}

/** Running statistics away from 0 and 1 and norm affines away from 1 and 0, so eval mode is not the identity. */
export function randomizeBuffers(m: Sequential, seed: number): Sequential {
  m.layers.flatMap(leaves).forEach((l, i) => {
    l.buffers().forEach((b, j) => {
      if (b.name === 'running_mean') b.data.set(randn(b.data.length, seed + 10 * i + j, -0.5, 0.5));
      if (b.name === 'running_var') b.data.set(randn(b.data.length, seed + 10 * i + j, 0.5, 2));
    });
    if (!/Norm/.test(l.className)) return;
    l.parameters().forEach((p, j) => {
      if (p.name === 'weight') p.data.set(randn(p.data.length, seed + 100 * i + j, 0.5, 1.5));
      if (p.name === 'bias') p.data.set(randn(p.data.length, seed + 100 * i + j, -0.5, 0.5));
    });
  });
  return m;
}

export async function runOrt(ort: Ort, file: string, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  const r = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), x.shape as number[]) });
  await session.release();
  return { data: r.output.data as Float32Array, dims: r.output.dims };
}

/**
 * Exports m (in eval mode) to file and expects ONNX Runtime's outputs to equal ours to `tol` at
 * batch 3 and 1 (the batch dimension is dynamic); returns the largest difference seen.
 */
export async function expectOrtMatches(ort: Ort, m: Sequential, file: string, seed: number, tol = 1e-5): Promise<number> {
  exportOnnx(m, file);
  let worst = 0;
  for (const n of [3, 1]) {
    const x = tensor(randn(n * m.inputShape!.reduce((a, b) => a * b, 1), 50 + seed + n, -2, 2), [n, ...m.inputShape!]);
    const ours = m.forward(x);
    const theirs = await runOrt(ort, file, x);
    expect(theirs.dims).toEqual(ours.shape);
    let d = 0;
    for (let i = 0; i < ours.data.length; i++) d = Math.max(d, Math.abs(ours.data[i] - theirs.data[i]));
    expect(d, `batch ${n}`).toBeLessThanOrEqual(tol);
    worst = Math.max(worst, d);
  }
  return worst;
}

/** Runs onnx.checker.check_model(full_check=True) on every file; expects all to pass. */
export function expectCheckerAccepts(files: string[]): void {
  const code = 'import sys, onnx\nfor f in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(f), full_check=True)\nprint("ok", len(sys.argv) - 1)';
  const r = spawnSync(PY, ['-c', code, ...files], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe(`ok ${files.length}`);
}

/** A user layer ONNX export does not know (it passes its input through). */
export class Odd extends Layer {
  readonly className = 'Odd';
  protected buildImpl(s: number[]): number[] {
    return s;
  }
  protected forwardImpl(t: Tensor): Tensor {
    return t;
  }
  protected backwardImpl(t: Tensor): Tensor {
    return t;
  }
}
