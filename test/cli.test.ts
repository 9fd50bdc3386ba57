// The command line: --help of every command, info, report, init-experiment, a tiny bench, unknown
// commands and flags (exit 2 with the valid ones listed); in process through main(), and the bin
// script itself once through node (it needs dist/: npm run build).
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../lib/cli/index';
import { saveRun } from '../lib/index';
import type { History } from '../lib/index';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-cli-'));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { log: (s) => out.push(s), error: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('minibatch command line', () => {
  it('--help lists the commands; each command has --help', async () => {
    const h = await cli('--help');
    expect(h.code).toBe(0);
    for (const c of ['info', 'report', 'init-experiment', 'bench']) expect(h.out).toContain(`  ${c}`);
    for (const c of ['info', 'report', 'init-experiment', 'bench']) {
      const r = await cli(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out.startsWith(`minibatch ${c}`), r.out).toBe(true);
      expect(r.out).toContain('-h, --help');
    }
    expect((await cli()).code).toBe(2);
  });

  it('unknown commands and flags are errors that list the valid ones', async () => {
    const c = await cli('trian');
    expect(c.code).toBe(2);
    expect(c.err).toContain("Expected one of info, report, init-experiment, bench for the command but received 'trian'");
    const f = await cli('init-experiment', '--activaton', 'tanh');
    expect(f.code).toBe(2);
    expect(f.err).toContain("Unknown option '--activaton' for minibatch init-experiment; valid options: --activation, --init, --batch-norm, --layers, --width, --batch, --seed, -o/--out, --json, -h/--help");
    const p = await cli('report');
    expect(p.code).toBe(2);
    expect(p.err).toContain('Expected 1 argument for minibatch report but received 0');
    const i = await cli('init-experiment', '--init', 'big');
    expect(i.code).toBe(2);
    expect(i.err).toContain("Expected xavier, kaiming or a number > 0 for --init but received 'big'");
  });

  it('info says what runs and where the addon came from', async () => {
    const r = await cli('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.backend).toBe('native');
    expect(['avx512', 'avx2', 'scalar']).toContain(info.simd);
    expect(typeof info.openmp).toBe('boolean');
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(info.addon).toMatch(/minibatch\.node$/);
    expect(info.fallback).toBeUndefined();
    const t = await cli('info');
    expect(t.out).toMatch(/^version: +\d+\.\d+\.\d+/);
  });

  it('report turns a run file into a page; a bad file names it', async () => {
    const file = path.join(tmp, 'run.json');
    saveRun(file, { epoch: [0, 1], history: { loss: [1, 0.7] } } as unknown as History, null);
    const out = path.join(tmp, 'r.html');
    const r = await cli('report', file, '-o', out);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`wrote ${out} (1 charts, 1 notes)`);
    expect(r.err).toContain(`note: No statistics in ${file}`);
    expect(fs.readFileSync(out, 'utf8')).toContain('Loss per epoch');
    fs.writeFileSync(file, 'nope');
    const bad = await cli('report', file, '-o', out);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(`minibatch report: Expected JSON in ${file} but it does not parse`);
  });

  it('init-experiment prints the numbers and writes the page', async () => {
    const out = path.join(tmp, 'init.html');
    const json = path.join(tmp, 'init.json');
    const r = await cli('init-experiment', '--activation', 'tanh', '--init', 'xavier', '--batch-norm', '--layers', '3', '--width', '128', '--batch', '64', '-o', out, '--json', json);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^tanh, xavier, BatchNorm\n {2}layer {2}1 {2}mean +-?\d\.\d{4} {2}std 0\.6\d{3} {2}sat \d\.\d%/);
    expect(r.out).toContain(`wrote ${out} (5 charts)`);
    const res = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(res[0].results.length).toBe(3);
    const all = await cli('init-experiment', '--layers', '2', '--width', '32', '--batch', '32', '-o', out);
    expect(all.out.split('\n').filter((l) => /^(tanh|relu), /.test(l)).length).toBe(5);
  });

  it('bench prints its table (tiny budget)', async () => {
    const r = await cli('bench', '--seconds', '0.2');
    expect(r.code).toBe(0);
    const rows = r.out.split('\n').filter((l) => /\d×$/.test(l));
    expect(rows.length).toBe(4);
    expect(r.out).toContain('GEMM 256×256×256');
    expect((await cli('bench', '--seconds', '-1')).code).toBe(2);
  }, 60_000);

  const bin = path.join(__dirname, '..', 'bin', 'minibatch');
  const built = fs.existsSync(path.join(__dirname, '..', 'dist', 'cjs', 'cli', 'index.js'));
  if (!built) console.warn('cli: the bin script test is SKIPPED — dist/ is not built (npm run build)');
  it.skipIf(!built)('the bin script runs through node', () => {
    const out = execFileSync(process.execPath, [bin, 'info'], { encoding: 'utf8' });
    expect(out).toMatch(/backend: +(native|js)/);
    let code = 0;
    try {
      execFileSync(process.execPath, [bin, 'info', '--bogus'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(2);
  });
});
