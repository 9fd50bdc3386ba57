// The install story, proven: prebuild, pack, install the tarball into an empty project with the
// compilers disabled, and show that the prebuilt binary is the one loaded (CommonJS and ESM) and
// that the `minibatch` command runs from the install.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env }, timeout: 900_000 });
}

describe('install from a packed tarball', () => {
  it('loads the prebuilt binary and compiles nothing', () => {
    // 1. a copy of the package sources (so the prebuild never touches this checkout's build/)
    const src = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-src-'));
    for (const f of ['package.json', 'binding.gyp', 'CMakeLists.txt', 'tsconfig.json', 'README.md', 'native', 'lib', 'scripts', 'bin']) {
      fs.cpSync(path.join(root, f), path.join(src, f), { recursive: true });
    }
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'), 'dir');

    // 2. prebuild (N-API, stripped) and pack
    sh(npm, ['run', 'prebuild'], src);
    const prebuilt = path.join(src, 'prebuilds', `${process.platform}-${process.arch}`);
    const files = fs.readdirSync(prebuilt).filter((f) => f.endsWith('.node'));
    expect(files.length).toBe(1);
    // N-API build: one binary serves every Node.js version with N-API 8
    const tgzName = sh(npm, ['pack', '--silent'], src).trim().split('\n').pop()!;
    const tgz = path.join(src, tgzName);
    expect(fs.existsSync(tgz)).toBe(true);

    // 3. install into an empty project; any attempt to compile would fail (no compilers)
    const proj = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-consumer-'));
    fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    sh(npm, ['install', tgz, '--prefer-offline', '--no-audit', '--no-fund'], proj, {
      CC: '/bin/false',
      CXX: '/bin/false',
      npm_config_build_from_source: '',
    });
    const installed = path.join(proj, 'node_modules', 'minibatch');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    expect(fs.existsSync(path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`, files[0]))).toBe(true);

    // 4. CommonJS and ESM both load it, and it is the prebuilt binary
    const cjs = JSON.parse(
      sh(process.execPath, ['-e', "const m = require('minibatch'); console.log(JSON.stringify(m.capabilities()))"], proj, {
        MINIBATCH_BACKEND: '',
      }),
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
    // types ship with it
    expect(fs.existsSync(path.join(installed, 'dist', 'cjs', 'index.d.ts'))).toBe(true);
    expect(fs.existsSync(path.join(installed, 'dist', 'esm', 'index.d.ts'))).toBe(true);

    fs.rmSync(src, { recursive: true, force: true });
    fs.rmSync(proj, { recursive: true, force: true });
  }, 900_000);
});
