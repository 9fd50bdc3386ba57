// The install story, proven on packed tarballs installed into empty projects with the compilers
// disabled: the prebuilt binary is the one loaded (CommonJS and ESM); without a binary that fits and
// without a compiler the install still succeeds, warns what happened and how to get the native
// backend, and the js backend works; and `npm pack` refuses to ship without the promised binaries.
import { describe, it, expect, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const platform = `${process.platform}-${process.arch}`;
const NO_COMPILER = { CC: '/bin/false', CXX: '/bin/false', npm_config_build_from_source: '' };
const temps: string[] = [];

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env }, timeout: 900_000 });
}

function tmp(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** A copy of the package sources (so nothing touches this checkout's build/ or prebuilds/). */
function sourceCopy(edit?: (pkg: Record<string, any>) => void): string {
  const src = tmp('minibatch-src-');
  for (const f of ['package.json', 'binding.gyp', 'CMakeLists.txt', 'tsconfig.json', 'README.md', 'native', 'lib', 'scripts', 'bin']) {
    fs.cpSync(path.join(root, f), path.join(src, f), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'), 'dir');
  if (edit) {
    const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'));
    edit(pkg);
    fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify(pkg, null, 2));
  }
  return src;
}

function pack(src: string): string {
  const name = sh(npm, ['pack', '--silent'], src).trim().split('\n').pop()!;
  const tgz = path.join(src, name);
  expect(fs.existsSync(tgz)).toBe(true);
  return tgz;
}

function consumer(): string {
  const proj = tmp('minibatch-consumer-');
  fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  return proj;
}

afterAll(() => {
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
});

describe('install from a packed tarball', () => {
  it('loads the prebuilt binary and compiles nothing', () => {
    const src = sourceCopy((pkg) => (pkg.minibatch = { prebuilds: [platform] }));
    sh(npm, ['run', 'build:prebuilds'], src);
    const files = fs.readdirSync(path.join(src, 'prebuilds', platform)).filter((f) => f.endsWith('.node'));
    expect(files.length).toBe(1); // N-API build: one binary serves every Node.js version with N-API 8
    const tgz = pack(src);

    const proj = consumer();
    sh(npm, ['install', tgz, '--prefer-offline', '--no-audit', '--no-fund'], proj, NO_COMPILER);
    const installed = path.join(proj, 'node_modules', 'minibatch');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'native-build.log'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'prebuilds', platform, files[0]))).toBe(true);

    const cjs = JSON.parse(
      sh(process.execPath, ['-e', "const m = require('minibatch'); console.log(JSON.stringify(m.capabilities()))"], proj, { MINIBATCH_BACKEND: '' }),
    );
    expect(cjs.backend).toBe('native');
    expect(cjs.addonPath).toContain(path.join('node_modules', 'minibatch', 'prebuilds'));
    const esm = sh(
      process.execPath,
      ['--input-type=module', '-e', "import { capabilities, Linear } from 'minibatch'; console.log(capabilities().backend, typeof Linear)"],
      proj,
    ).trim();
    expect(esm).toBe('native function');
    // the command line works from the install, and its pages carry the charting library
    const bin = path.join(proj, 'node_modules', '.bin', 'minibatch');
    expect(sh(bin, ['info'], proj)).toMatch(/backend: +native/);
    sh(bin, ['init-experiment', '--layers', '2', '--width', '16', '--batch', '8', '-o', 'init.html'], proj);
    expect(fs.readFileSync(path.join(proj, 'init.html'), 'utf8')).toContain('uPlot');
    expect(fs.existsSync(path.join(installed, 'dist', 'cjs', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'esm', 'index.d.ts'))).toBe(true);
  }, 900_000);

  it('without a binary that fits and without a compiler: installs, warns, and the js backend works', () => {
    // a source-only package: it promises no prebuilt binary
    const tgz = pack(sourceCopy((pkg) => (pkg.minibatch = { prebuilds: [] })));
    const proj = consumer();
    const r = spawnSync(npm, ['install', tgz, '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], {
      cwd: proj,
      encoding: 'utf8',
      env: { ...process.env, ...NO_COMPILER },
      timeout: 600_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const said = r.stdout + r.stderr;
    expect(said).toContain(`minibatch: no prebuilt binary for ${platform} loaded and building the native addon failed`);
    expect(said).toContain('npm rebuild minibatch');
    const installed = path.join(proj, 'node_modules', 'minibatch');
    expect(fs.existsSync(path.join(installed, 'prebuilds'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'native-build.log'))).toBe(true);

    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `const m = require('minibatch');
         const model = new m.Sequential([new m.Linear({ inFeatures: 2, outFeatures: 2 })], { inputShape: [2], seed: 1 });
         const out = model.forward({ data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] });
         console.log(JSON.stringify({ backend: m.capabilities().backend, n: out.data.length, finite: out.data.every(Number.isFinite) }));`,
      ],
      { cwd: proj, encoding: 'utf8', env: { ...process.env, MINIBATCH_BACKEND: '' } },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ backend: 'js', n: 4, finite: true });
    // the load-time warning says why and points at the install log
    expect(run.stderr).toContain('The native build failed at install');
    expect(run.stderr).toContain('Falling back to the js backend');
  }, 900_000);

  it('npm pack refuses a package without the binaries it promises', () => {
    const src = sourceCopy((pkg) => (pkg.minibatch = { prebuilds: [platform] }));
    const r = spawnSync(npm, ['pack', '--silent'], { cwd: src, encoding: 'utf8', timeout: 300_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`promises prebuilt binaries for ${platform} but no binary in prebuilds/${platform}/`);
    expect(fs.readdirSync(src).filter((f) => f.endsWith('.tgz'))).toEqual([]);
  }, 300_000);
});
