// FileDataset: rows of a binary float32 file read by a worker thread; fit over it is the run over
// the same arrays (labels and regression targets, a header offset); bad files and options are
// refused with messages that name them; close() ends the reader.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { randn } from '../helpers';
import { CrossEntropyLoss, FileDataset, Flatten, Linear, MSELoss, ReLU, SGD, Sequential, fit, tensor } from '../../lib/index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-file-ds-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, x: Float32Array, header = 0): string {
  const f = path.join(dir, name);
  const buf = Buffer.alloc(header + x.byteLength, 0xab);
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).copy(buf, header);
  fs.writeFileSync(f, buf);
  return f;
}
const net = (out: number) => new Sequential([new Flatten(), new Linear({ inFeatures: 6, outFeatures: 8 }), new ReLU(), new Linear({ inFeatures: 8, outFeatures: out })], { inputShape: [2, 3], seed: 4 });

describe('FileDataset', () => {
  const n = 50;
  const x = randn(n * 6, 31);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * 6] > 0 ? 1 : 0));

  it('reads the rows asked for, in their order, after a header', async () => {
    const ds = new FileDataset(write('a.f32', x, 16), { shape: [2, 3], y, offset: 16 });
    expect(ds.length).toBe(n);
    const [b1, b2] = await Promise.all([ds.batch(Int32Array.of(7, 0, 49)), ds.batch(Int32Array.of(3))]);
    expect(b1.x.shape).toEqual([3, 2, 3]);
    expect(Array.from(b1.x.data)).toEqual([...x.slice(42, 48), ...x.slice(0, 6), ...x.slice(294, 300)]);
    expect(Array.from(b1.y as Int32Array)).toEqual([y[7], y[0], y[49]]);
    expect(Array.from(b2.x.data)).toEqual(Array.from(x.slice(18, 24)));
    await ds.close();
    expect(() => ds.batch(Int32Array.of(0))).toThrow(/^Expected an open FileDataset for FileDataset but received one that was closed/);
  });

  it('fit over it is the run over the same arrays: class labels and regression targets', async () => {
    const file = write('b.f32', x);
    const opts = (m: Sequential, loss: CrossEntropyLoss | MSELoss) => ({ epochs: 2, batchSize: 8, seed: 3, verbose: 0 as const, loss, optimizer: new SGD(m.parameters(), { lr: 0.1 }) });
    const a = net(2);
    const ha = await fit(a, tensor(x, [n, 2, 3]), y, opts(a, new CrossEntropyLoss()));
    const ds = new FileDataset(file, { shape: [2, 3], y });
    const b = net(2);
    const hb = await fit(b, ds, opts(b, new CrossEntropyLoss()));
    expect(hb.history.loss).toEqual(ha.history.loss);
    expect(Array.from(b.parameters().data)).toEqual(Array.from(a.parameters().data));
    await ds.close();

    const t = tensor(randn(n, 5), [n, 1]);
    const c = net(1);
    const hc = await fit(c, tensor(x, [n, 2, 3]), t, opts(c, new MSELoss()));
    const dt = new FileDataset(file, { shape: [2, 3], y: t });
    const e = net(1);
    const he = await fit(e, dt, opts(e, new MSELoss()));
    expect(he.history.loss).toEqual(hc.history.loss);
    await dt.close();
  });

  it('refuses a missing or short file, bad options and rows out of range', async () => {
    const file = write('c.f32', x);
    expect(() => new FileDataset(path.join(dir, 'none.f32'), { shape: [2, 3], y })).toThrow(/^Expected an existing file for file but received '.*none\.f32' \(ENOENT\)/);
    expect(() => new FileDataset(dir, { shape: [2, 3], y })).toThrow(/which is not a regular file/);
    expect(() => new FileDataset(file, { shape: [2, 3], y, offset: 8 })).toThrow(
      /^Expected a file of at least 1208 bytes \(50 rows of \[2, 3\] float32 after 8 bytes\) for file but received '.*c\.f32' of 1200 bytes/,
    );
    expect(() => new FileDataset(file, { shape: [2, 0], y })).toThrow(/for shape\[1\]/);
    expect(() => new FileDataset(file, { shape: [2, 3], y: [1, 0] as never })).toThrow(TypeError);
    expect(() => new FileDataset(file, { shape: [2, 3], y, rows: 3 } as never)).toThrow(TypeError);
    const ds = new FileDataset(file, { shape: [2, 3], y });
    expect(() => ds.batch(Int32Array.of(0, 50))).toThrow(/^Expected row indices in \[0, 50\) for indices\[1\] but received 50/);
    // a file cut short after the check: the read rejects naming the row
    fs.truncateSync(file, 600);
    await expect(ds.batch(Int32Array.of(1, 40))).rejects.toThrow(/^Expected 24 bytes of row 40 at byte 960 for .*c\.f32 but received 0 \(the file ends\)/);
    await ds.close();
  });
});
