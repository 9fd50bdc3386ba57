// The HTTP service of examples/serve.ts on an ephemeral port: good and bad requests, background
// training with an atomic swap, graceful shutdown (in-process and on SIGTERM in a child process).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear, ChannelNormalizer, saveModel, predict } from '../lib/index';
import { startService, Service } from '../examples/serve';
import { randn, expectClose } from './helpers';

interface Answer {
  status: number;
  body: any;
}

function send(port: number, method: string, url: string, body?: Buffer | string, type = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, agent: false, headers: body === undefined ? {} : { 'content-type': type } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-serve-'));
const file = path.join(dir, 'model.safetensors');
const model = new Sequential(
  [new Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }), new Flatten(), new Linear({ inFeatures: 4 * 14 * 14, outFeatures: 10 })],
  { inputShape: [1, 28, 28], seed: 1 },
);
const norm = new ChannelNormalizer().fit({ data: randn(8 * 784, 2, 0, 1), shape: [8, 1, 28, 28] });
const image = (i: number) => randn(784, 10 + i, 0, 1);
let svc: Service;

beforeAll(async () => {
  saveModel(model, file, { preprocess: norm });
  svc = await startService({ checkpoint: file, port: 0, maxBatch: 8, maxBodyBytes: 512 * 1024 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('examples/serve.ts', () => {
  it('answers health checks and predictions (JSON one image, JSON batch, raw float32) as predict() does', async () => {
    const h = await send(svc.port, 'GET', '/healthz');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', inputShape: [1, 28, 28], training: false, queueLength: 0 });
    const imgs = [image(0), image(1), image(2)];
    const ref = await predict(model.eval(), norm.transform({ data: Float32Array.from(imgs.flatMap((a) => Array.from(a))), shape: [3, 1, 28, 28] }));
    const one = await send(svc.port, 'POST', '/predict', JSON.stringify({ input: Array.from(imgs[0]) }));
    expect(one.status).toBe(200);
    expect(one.body.labels).toHaveLength(1);
    expectClose(one.body.outputs[0], ref.data.subarray(0, 10), 1e-5, 1e-5, 'one image');
    const batch = await send(svc.port, 'POST', '/predict', JSON.stringify({ inputs: imgs.map((a) => Array.from(a)) }));
    expect(batch.status).toBe(200);
    expectClose(batch.body.outputs.flat(), ref.data, 1e-5, 1e-5, 'batch');
    const nested = await send(svc.port, 'POST', '/predict', JSON.stringify({ input: [Array.from({ length: 28 }, (_, r) => Array.from(imgs[1].subarray(r * 28, r * 28 + 28)))] }));
    expectClose(nested.body.outputs[0], ref.data.subarray(10, 20), 1e-5, 1e-5, 'nested');
    const raw = Buffer.from(Float32Array.from([...imgs[1], ...imgs[2]]).buffer);
    const r = await send(svc.port, 'POST', '/predict', raw, 'application/octet-stream');
    expect(r.status).toBe(200);
    expectClose(r.body.outputs.flat(), ref.data.subarray(10, 30), 1e-5, 1e-5, 'raw');
    expect(r.body.labels).toEqual([batch.body.labels[1], batch.body.labels[2]]);
  });

  it('refuses bad requests with a 4xx and a JSON error, and keeps serving', async () => {
    const nan = new Float32Array(784);
    nan[5] = NaN;
    const cases: [string, string, Buffer | string | undefined, string, number, RegExp][] = [
      ['POST', '/predict', JSON.stringify({ input: [1, 2, 3] }), 'application/json', 400, /expected 784 values in "input", got 3/],
      ['POST', '/predict', JSON.stringify({ input: Array(784).fill('a') }), 'application/json', 400, /expected finite numbers in input\[0\]/],
      ['POST', '/predict', JSON.stringify({ input: Array(784).fill(null) }), 'application/json', 400, /finite numbers/],
      ['POST', '/predict', JSON.stringify({ inputs: Array(785).fill(0) }), 'application/json', 400, /samples of 784 values/],
      ['POST', '/predict', JSON.stringify({ nothing: 1 }), 'application/json', 400, /"input" \(one sample\) or "inputs"/],
      ['POST', '/predict', '{"input": [1, 2', 'application/json', 400, /not valid JSON/],
      ['POST', '/predict', Buffer.from(nan.buffer), 'application/octet-stream', 400, /finite values, got NaN at index 5/],
      ['POST', '/predict', Buffer.alloc(10), 'application/octet-stream', 400, /multiple of 784 float32 values/],
      ['POST', '/predict', Buffer.alloc(784 * 4 * 9), 'application/octet-stream', 413, /at most 8 samples/],
      ['POST', '/predict', Buffer.alloc(600 * 1024), 'application/octet-stream', 413, /over the limit/],
      ['POST', '/predict', 'x=1', 'text/plain', 415, /Content-Type/],
      ['GET', '/predict', undefined, '', 405, /use POST/],
      ['GET', '/nope', undefined, '', 404, /no route/],
      ['POST', '/train', JSON.stringify({ inputs: [[1]], labels: [0] }), 'application/json', 400, /one sample of 784 values per label/],
      ['POST', '/train', JSON.stringify({ inputs: [Array(784).fill(0)], labels: [10] }), 'application/json', 400, /labels between 0 and 9/],
    ];
    for (const [method, url, body, type, status, msg] of cases) {
      const a = await send(svc.port, method, url, body, type);
      expect(a.status, `${method} ${url} ${String(body).slice(0, 30)}`).toBe(status);
      expect(a.body.error).toMatch(msg);
    }
    expect((await send(svc.port, 'GET', '/healthz')).status).toBe(200);
  });

  it('trains in the background and swaps the served weights when done', async () => {
    const before = await send(svc.port, 'POST', '/predict', JSON.stringify({ input: Array.from(image(0)) }));
    const inputs = Array.from({ length: 16 }, (_, i) => Array.from(image(i)));
    const labels = inputs.map((_, i) => i % 10);
    const t = await send(svc.port, 'POST', '/train', JSON.stringify({ inputs, labels, epochs: 3 }));
    expect(t.status).toBe(202);
    expect((await send(svc.port, 'POST', '/train', JSON.stringify({ inputs, labels }))).status).toBe(409);
    let h = await send(svc.port, 'GET', '/healthz');
    for (let i = 0; i < 200 && h.body.trainings < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      h = await send(svc.port, 'GET', '/healthz');
    }
    expect(h.body).toMatchObject({ training: false, trainings: 1 });
    const after = await send(svc.port, 'POST', '/predict', JSON.stringify({ input: Array.from(image(0)) }));
    expect(after.body.outputs[0]).not.toEqual(before.body.outputs[0]);
    // a second run is trained and swapped in as well
    expect((await send(svc.port, 'POST', '/train', JSON.stringify({ inputs, labels, epochs: 1 }))).status).toBe(202);
    for (let i = 0; i < 200 && h.body.trainings < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      h = await send(svc.port, 'GET', '/healthz');
    }
    expect(h.body.trainings).toBe(2);
    const third = await send(svc.port, 'POST', '/predict', JSON.stringify({ input: Array.from(image(0)) }));
    expect(third.body.outputs[0]).not.toEqual(after.body.outputs[0]);
  });

  it('graceful shutdown: in-flight requests finish, then the port is closed', async () => {
    let received = 0;
    const all = new Promise<void>((r) => svc.server.on('request', () => ++received === 6 && r()));
    const inflight = Array.from({ length: 6 }, (_, i) => send(svc.port, 'POST', '/predict', JSON.stringify({ input: Array.from(image(i)) })));
    await all; // every request has reached the server
    await svc.close();
    const answers = await Promise.all(inflight);
    for (const a of answers) expect(a.status).toBe(200);
    await expect(send(svc.port, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('exits with 0 on SIGTERM (run as a program)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'examples', 'serve.ts'), '--checkpoint', file, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
    });
    expect((await send(port, 'POST', '/predict', JSON.stringify({ input: Array.from(image(0)) }))).status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
    expect(out).toMatch(/SIGTERM: finishing in-flight requests/);
  });
});
