// Backend selection, capabilities, thread control and the fallback story.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as fs from 'fs';
import { capabilities, setNumThreads, getNumThreads, version, testing } from '../lib/index';

const { nativeBackend, nativeAddon } = testing;

const root = path.join(__dirname, '..');

/** Runs a snippet in a fresh node process (tsx), returning stdout/stderr/status. */
function runNode(code: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** The level the addon should report: the CPU's best, capped by MINIBATCH_SIMD. */
function expectedSimd(forced: string | undefined): string {
  const info = nativeAddon().nativeInfo() as { cpuAvx2: boolean; cpuAvx512: boolean };
  const best = info.cpuAvx512 ? 'avx512' : info.cpuAvx2 ? 'avx2' : 'scalar';
  const order = ['scalar', 'avx2', 'avx512'];
  if (forced === undefined || !order.includes(forced)) return best;
  return order[Math.min(order.indexOf(forced), order.indexOf(best))];
}

describe('the backend contract', () => {
  it('native and js expose the same keys: the kernels of the contract and nothing else', () => {
    const keys = (b: object) => Object.keys(b).sort();
    expect(keys(nativeBackend())).toEqual(keys(testing.jsBackend()));
    expect(keys(nativeBackend())).not.toContain('gemmRef');
    expect(nativeAddon().gemmRef).toBeTypeOf('function');
    expect(nativeAddon().normReference.batchNormForward).toBeTypeOf('function');
    expect(nativeAddon().statsReference.tensorStats).toBeTypeOf('function');
    expect(nativeAddon().globalPoolReference.globalAvgPoolForward).toBeTypeOf('function');
    expect(nativeAddon().copyBuffer).toBeTypeOf('function');
  });
});

describe('capabilities()', () => {
  it('reports the native backend, SIMD level, OpenMP, threads and version', () => {
    const c = capabilities();
    expect(c.backend).toBe('native');
    expect(c.simd).toBe(expectedSimd(process.env.MINIBATCH_SIMD));
    expect(c.openmp).toBe(true);
    expect(c.threads).toBeGreaterThanOrEqual(1);
    expect(c.version).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    expect(version).toBe(c.version);
    expect(c.addonPath).toMatch(/minibatch\.node$|\.node$/);
  });

  it('setNumThreads / getNumThreads', () => {
    const before = getNumThreads();
    setNumThreads(1);
    expect(getNumThreads()).toBe(1);
    expect(capabilities().threads).toBe(1);
    setNumThreads(2);
    expect(getNumThreads()).toBe(2);
    setNumThreads(before);
    expect(() => setNumThreads(0)).toThrow(new RangeError('Expected integer between 1 and 1024 for n but received 0 of type number'));
    expect(() => setNumThreads(1.5)).toThrow(RangeError);
    expect(() => setNumThreads('2' as any)).toThrow(TypeError);
    // the glue re-checks too
    expect(() => nativeBackend().setNumThreads(-1)).toThrow(new RangeError('Expected integer >= 1 for n but received -1 of type number'));
  });
});

describe('backend selection', () => {
  it('MINIBATCH_BACKEND=js selects the js backend', () => {
    const r = runNode(`Promise.resolve(require('./lib/index.ts')).then(m => console.log(JSON.stringify(m.capabilities())))`, { MINIBATCH_BACKEND: 'js' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.out).backend).toBe('js');
  });

  it('MINIBATCH_SIMD=scalar forces the scalar kernels', () => {
    const r = runNode(`Promise.resolve(require('./lib/index.ts')).then(m => console.log(m.capabilities().simd))`, { MINIBATCH_SIMD: 'scalar' });
    expect(r.out.trim()).toBe('scalar');
  });

  it('MINIBATCH_SIMD=avx2 caps the level at AVX2; avx512 asks for the best the CPU has', () => {
    const code = `Promise.resolve(require('./lib/index.ts')).then(m => console.log(m.capabilities().simd))`;
    const avx2 = runNode(code, { MINIBATCH_SIMD: 'avx2' });
    expect(avx2.out.trim()).toBe(expectedSimd('avx2'));
    expect(avx2.out.trim()).toBe(nativeAddon().nativeInfo().cpuAvx2 ? 'avx2' : 'scalar');
    const avx512 = runNode(code, { MINIBATCH_SIMD: 'avx512' });
    expect(avx512.out.trim()).toBe(expectedSimd(undefined));
  });

  it('falls back to js with one warning that says why and how to fix it when the addon cannot load', () => {
    const r = runNode(
      `Promise.resolve(require('./lib/index.ts')).then(m => { m.capabilities(); m.capabilities(); console.log(m.capabilities().backend) })`,
      { MINIBATCH_ADDON: '/nonexistent/minibatch.node', MINIBATCH_BACKEND: '' },
    );
    expect(r.status).toBe(0);
    expect(r.out.trim()).toBe('js');
    const warnings = r.err.split('\n').filter((l) => l.includes('MinibatchWarning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('the native addon could not be loaded');
    expect(warnings[0]).toContain('npm rebuild minibatch');
    expect(warnings[0]).toContain('MINIBATCH_BACKEND=js');
  });

  it('asking for native when it cannot load is an error, not a fallback', () => {
    const r = runNode(`Promise.resolve(require('./lib/index.ts')).then(m => m.capabilities())`, {
      MINIBATCH_ADDON: '/nonexistent/minibatch.node',
      MINIBATCH_BACKEND: 'native',
    });
    expect(r.status).not.toBe(0);
    expect(r.err).toContain('the native addon could not be loaded');
  });

  it('an unknown MINIBATCH_BACKEND is a clear error', () => {
    const r = runNode(`Promise.resolve(require('./lib/index.ts')).then(m => m.capabilities())`, { MINIBATCH_BACKEND: 'gpu' });
    expect(r.status).not.toBe(0);
    expect(r.err).toContain(`Expected 'js' or 'native' for MINIBATCH_BACKEND but received "gpu"`);
  });
});
