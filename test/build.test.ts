// The second build path: the same sources through CMakeLists.txt (cmake-js), here without OpenMP,
// into its own folder; the addon it makes loads and agrees with the node-gyp build.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createNativeBackend, loadAddon } from '../lib/backend/native';
import { native, randn } from './helpers';

const root = path.join(__dirname, '..');
const out = path.join(root, 'build-cmake-test');

describe('cmake-js build', () => {
  it('builds without OpenMP and the addon works', () => {
    fs.rmSync(out, { recursive: true, force: true });
    execFileSync(
      process.execPath,
      [path.join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js'), 'compile', '--out', out, '--CDMB_OPENMP=OFF'],
      { cwd: root, stdio: 'pipe', timeout: 900_000 },
    );
    const file = path.join(out, 'Release', 'minibatch.node');
    expect(fs.existsSync(file)).toBe(true);
    const cm = createNativeBackend(loadAddon(file));
    const caps = cm.capabilities();
    expect(caps.openmp).toBe(false);
    expect(caps.threads).toBe(1);
    const m = 37, n = 41, k = 53;
    const a = randn(m * k, 4), b = randn(k * n, 5);
    const c1 = new Float32Array(m * n), c2 = new Float32Array(m * n);
    cm.gemm(false, false, m, n, k, 1, a, b, 0, c1);
    native.gemm(false, false, m, n, k, 1, a, b, 0, c2);
    for (let i = 0; i < c1.length; i++) expect(Math.abs(c1[i] - c2[i])).toBeLessThan(1e-4);
  }, 900_000);
});
