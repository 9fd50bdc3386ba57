// Saves are atomic under concurrency and kill -9: two threads and two processes hammer one path
// while a reader checks every file it sees; 30 writers killed mid-save never lose the checkpoint,
// and their temporaries are cleaned up by the next process that saves.
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, ChildProcess } from 'child_process';
import { buildSync } from 'esbuild';
import { saveModel, Sequential, Linear } from '../../lib/index';
import { removeStaleTemporaries } from '../../lib/io/atomic';
import { check } from './hammer';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-atomic-'));
const bundle = path.join(dir, 'hammer.cjs');

beforeAll(() => {
  buildSync({ entryPoints: [path.join(__dirname, 'hammer.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'error' });
});

function run(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  return { child, done };
}

const temporaries = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.tmp'));

async function hammer(sub: string, writers: string[][]): Promise<Record<string, number>> {
  const d = path.join(dir, sub);
  fs.mkdirSync(d);
  const target = path.join(d, 'model.safetensors');
  const stop = path.join(d, 'stop');
  const reader = run(['read', target, stop]);
  const ws = writers.map((w) => run(w.map((a) => (a === 'TARGET' ? target : a))));
  const results = await Promise.all(ws.map((w) => w.done));
  fs.writeFileSync(stop, '');
  const r = await reader.done;
  for (const w of results) {
    expect(w.err).toBe('');
    expect(w.code).toBe(0);
  }
  expect(temporaries(d)).toEqual([]);
  const tally = JSON.parse(r.out) as Record<string, number>;
  if (process.env.MINIBATCH_VERBOSE_TESTS) console.log(sub, tally);
  return tally;
}

describe('concurrent saves', () => {
  it('two worker threads of one process saving one path: every file a reader sees is whole', async () => {
    const tally = await hammer('threads', [['threads', 'TARGET', '120', '16384']]);
    const { ok = 0, missing = 0, ...bad } = tally;
    expect(bad).toEqual({});
    expect(ok).toBeGreaterThan(20);
    expect(missing).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('two processes saving one path: every file a reader sees is whole', async () => {
    const tally = await hammer('processes', [['write', 'TARGET', '1', '120', '16384', 'wait'], ['write', 'TARGET', '2', '120', '16384', 'wait']]);
    const { ok = 0, missing = 0, ...bad } = tally;
    expect(bad).toEqual({});
    expect(ok).toBeGreaterThan(20);
    expect(missing).toBeGreaterThanOrEqual(0);
  }, 60_000);
});

describe('kill -9 during saves', () => {
  it('30 writers killed mid-save: the checkpoint is always whole, temporaries are cleaned by the next process', async () => {
    const d = path.join(dir, 'kill');
    fs.mkdirSync(d);
    const target = path.join(d, 'model.safetensors');
    expect((await run(['write', target, '0', '1', '16']).done).code).toBe(0);
    let leftovers = 0;
    for (let round = 0; round < 30; round++) {
      const w = run(['forever', target, String(1 << 18)]); // 1 MiB per save
      await new Promise<void>((resolve) => w.child.stdout!.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 15 + ((round * 37) % 50)));
      w.child.kill('SIGKILL');
      await w.done;
      expect(check(target)).toBe('ok');
      const tmp = temporaries(d).length;
      expect(tmp).toBeLessThanOrEqual(1); // the last writer's, at most: each new writer cleans the ones before
      leftovers += tmp;
    }
    expect(leftovers).toBeGreaterThan(0); // the kills did land mid-save
    // A fresh process that saves once removes the leftover; a temporary of a live process is kept.
    const live = path.join(d, `.model.safetensors.0123456789abcdef.${process.pid}.tmp`);
    fs.writeFileSync(live, 'in flight');
    fs.utimesSync(live, new Date(0), new Date(0));
    const once = await run(['write', target, '9', '1', '16']).done;
    expect(once.code).toBe(0);
    expect(temporaries(d)).toEqual([path.basename(live)]);
    // in this process, nothing written after it started is stale
    fs.writeFileSync(path.join(d, '.model.safetensors.00000000000000aa.999999999.tmp'), 'x');
    expect(removeStaleTemporaries(d, 'model.safetensors')).toBe(0);
  }, 120_000);

  it('a failed save leaves the previous file and no temporary', () => {
    const d = path.join(dir, 'fail');
    fs.mkdirSync(d);
    const target = path.join(d, 'm.safetensors');
    const m = new Sequential([new Linear({ inFeatures: 2, outFeatures: 1 })], { inputShape: [2] });
    saveModel(m, target);
    const before = fs.readFileSync(target);
    fs.chmodSync(d, 0o500);
    try {
      if (process.getuid?.() !== 0) expect(() => saveModel(m, target)).toThrow(/EACCES/);
    } finally {
      fs.chmodSync(d, 0o700);
    }
    expect(() => saveModel(m, target, { extra: { bad: 1n } })).toThrow(TypeError);
    expect(fs.readFileSync(target).equals(before)).toBe(true);
    expect(temporaries(d)).toEqual([]);
  });
});
