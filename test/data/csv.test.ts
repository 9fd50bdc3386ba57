// The CSV reader: header and column selection, label column, batches across the file, readCsv,
// fit and partialFit straight from a file, and clear errors (bad value, ragged row, bad label).
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { csvBatches, readCsv, Sequential, Linear, CrossEntropyLoss, SGD, StandardScaler, fit } from '../../lib/index';

let dir = '';
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-csv-'));
});

describe('CSV reader', () => {
  it('reads columns by name and index, the label, batches across the file', async () => {
    const rows = Array.from({ length: 7 }, (_, i) => `${i},"${i * 0.5}", ${-i},${i % 3}`);
    const p = file('a.csv', `\ufeffa,b,c,label\n${rows.join('\n')}\n\n`);
    const all = await readCsv(p);
    expect(all.columns).toEqual(['a', 'b', 'c']);
    expect(all.x.shape).toEqual([7, 3]);
    expect(Array.from(all.x.data.subarray(3, 6))).toEqual([1, 0.5, -1]);
    expect(Array.from(all.y as Int32Array)).toEqual([0, 1, 2, 0, 1, 2, 0]);
    const sel = await readCsv(p, { columns: ['c', 0], label: 'b', labelKind: 'value' });
    expect(Array.from(sel.x.data.subarray(0, 4), (v) => v + 0)).toEqual([0, 0, -1, 1]);
    expect((sel.y as any).shape).toEqual([7, 1]);
    const sizes: number[] = [];
    for await (const b of csvBatches(p, { batchSize: 3 })()) sizes.push(b.x.shape[0]);
    expect(sizes).toEqual([3, 3, 1]);
    const noHeader = await readCsv(file('b.csv', '1;2;0\n3;4;1\n'), { header: false, delimiter: ';' });
    expect(Array.from(noHeader.x.data)).toEqual([1, 2, 3, 4]);
  });

  it('fit and StandardScaler.partialFit straight from the file', async () => {
    const lines = ['x0,x1,y'];
    for (let i = 0; i < 60; i++) {
      const a = Math.sin(i * 1.7), b = Math.cos(i * 0.9);
      lines.push(`${a},${b},${a + b > 0 ? 1 : 0}`);
    }
    const p = file('train.csv', lines.join('\n'));
    const scaler = new StandardScaler();
    for await (const b of csvBatches(p, { batchSize: 16 })()) scaler.partialFit(b.x);
    const whole = await readCsv(p);
    const ref = new StandardScaler().fit(whole.x);
    for (let j = 0; j < 2; j++) expect(scaler.mean![j]).toBeCloseTo(ref.mean![j], 6);
    const model = new Sequential([new Linear({ inFeatures: 2, outFeatures: 2 })], { inputShape: [2], seed: 1 });
    const h = await fit(model, csvBatches(p, { batchSize: 10 }), { epochs: 15, loss: new CrossEntropyLoss(), optimizer: new SGD(model.parameters(), { lr: 0.5 }), metrics: ['accuracy'], verbose: 0 });
    expect(h.history.loss.length).toBe(15);
    expect(h.history.accuracy!.at(-1)!).toBeGreaterThan(0.85);
  });

  it('names the line and column of a bad value, a ragged row and a bad label', async () => {
    await expect(readCsv(file('bad.csv', 'a,b,y\n1,2,0\n3,abc,1\n'))).rejects.toThrow(/^Expected a number for line 3, column 2 \('b'\) of bad\.csv but received 'abc'$/);
    await expect(readCsv(file('ragged.csv', 'a,b,y\n1,2,0\n3,1\n'))).rejects.toThrow(/^Expected a row with as many fields as the first for line 3 of ragged\.csv but received 2 fields$/);
    await expect(readCsv(file('label.csv', 'a,b,y\n1,2,0.5\n'))).rejects.toThrow(/^Expected a class index \(an integer >= 0\) for line 2, column 3 \('y'\) of label\.csv but received '0\.5'$/);
    await expect(readCsv(file('c.csv', 'a,b,y\n1,2,0\n'), { columns: ['z'] })).rejects.toThrow(/^Expected one of the columns 'a', 'b', 'y' of c\.csv for columns\[0\] but received 'z'$/);
    await expect(readCsv(path.join(dir, 'missing.csv'))).rejects.toThrow(/ENOENT/);
    expect(() => csvBatches(42 as any)).toThrow(TypeError);
    expect(() => csvBatches('x.csv', { delimiter: ';;' })).toThrow(TypeError);
  });
});
