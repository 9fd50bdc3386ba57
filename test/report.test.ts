// The report from good and bad input: what the page holds, notes for an empty history, NaN and
// Infinity, another version's history or statistics, statistics of another model; run files
// through saveRun / loadRun and their errors naming the file and the field; no external reference
// in the page.
import { describe, it, expect } from 'vitest';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randn } from './helpers';
import { Sequential, Linear, ReLU, Tanh, CrossEntropyLoss, SGD, fit, StatsRecorder, report, saveRun, loadRun, initReport, initExperiment, tensor } from '../lib/index';
import type { History, StatsJSON } from '../lib/index';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'minibatch-report-'));

async function run(): Promise<{ history: History; stats: StatsJSON; model: Sequential }> {
  const model = new Sequential([new Linear({ inFeatures: 6, outFeatures: 8 }), new Tanh(), new Linear({ inFeatures: 8, outFeatures: 8 }), new ReLU(), new Linear({ inFeatures: 8, outFeatures: 3 })], { inputShape: [6] });
  const opt = new SGD(model.parameters(), { lr: 0.1 });
  const rec = new StatsRecorder(model, { every: 2, optimizer: opt });
  const y = Int32Array.from({ length: 40 }, (_, i) => i % 3);
  const history = await fit(model, tensor(randn(240, 9), [40, 6]), y, { epochs: 3, batchSize: 8, validationSplit: 0.2, metrics: ['accuracy'], loss: new CrossEntropyLoss(), optimizer: opt, verbose: 0, callbacks: [rec] });
  return { history, stats: rec.toJSON(), model };
}

function dataOf(html: string): { charts: { title: string; series: { label: string; values: (number | null)[] }[] }[] }[] {
  const m = /<script type="application\/json" id="mb-data">([\s\S]*?)<\/script>/.exec(html);
  return JSON.parse(m![1]);
}
const titles = (html: string) => dataOf(html).flatMap((s) => s.charts.map((c) => c.title));

describe('report', () => {
  it('draws every part of a good run and writes one self-contained file', async () => {
    const { history, stats, model } = await run();
    const out = path.join(tmp, 'good.html');
    const r = report(history, stats, { out, model });
    expect(r.path).toBe(out);
    expect(fs.readFileSync(out, 'utf8')).toBe(r.html);
    expect(r.notes).toEqual([]);
    const t = titles(r.html);
    for (const want of ['Loss per epoch', 'Accuracy per epoch', 'Loss per step', 'Learning rate', 'Activation std per layer', 'Dead (ReLU) and saturated (tanh, sigmoid) fraction', 'Gradient norm ‖g‖', 'Update ratio ‖Δw‖/‖w‖']) expect(t).toContain(want);
    expect(t.filter((x) => x.startsWith('Histogram:')).length).toBe(5);
    expect(r.charts).toBe(t.length);
    const loss = dataOf(r.html)[0].charts[0];
    expect(loss.series.map((s) => s.label)).toEqual(['training', 'validation']);
    expect(loss.series[0].values).toEqual(history.history.loss);
    const ratio = dataOf(r.html).flatMap((x) => x.charts).find((c) => c.title.startsWith('Update ratio'))!;
    expect(ratio.series[ratio.series.length - 1]).toMatchObject({ label: '1e-3' });
    expect(ratio.series[ratio.series.length - 1].values.every((v) => v === 1e-3)).toBe(true);
    // self-contained: uPlot inline, nothing fetched
    expect(r.html).toContain('uPlot');
    expect(r.html).not.toMatch(/(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(r.html).not.toMatch(/@import|url\(\s*["']?https?:/i);
  });

  it('an empty history and no statistics: a page with notes', () => {
    const r = report({ epoch: [], history: { loss: [] } }, null, { source: 'run.json' });
    expect(r.charts).toBe(0);
    expect(r.notes).toContain('The history in run.json is empty (no epoch finished).');
    expect(r.notes.some((n) => n.startsWith('No statistics in run.json'))).toBe(true);
    expect(r.html).toContain('class="note"');
  });

  it('NaN and Infinity become gaps with a note naming the field and the epochs', () => {
    const h = { epoch: [0, 1, 2, 3], history: { loss: [1, NaN, Infinity, 0.5], valLoss: [1.2, 1.1, 1, 0.9] } };
    const r = report(h, null, { source: 'h.json' });
    expect(r.notes).toContain('2 of 4 values of history.history.loss in h.json are missing, NaN or infinite (at epochs 2, 3); shown as gaps.');
    expect(dataOf(r.html)[0].charts[0].series[0].values).toEqual([1, null, null, 0.5]);
  });

  it("another version's history (flat arrays, snake_case names) is read with notes", () => {
    const r = report({ loss: [1, 0.8], val_loss: [1.1, 0.9], acc: [0.3, 0.5] }, null, { source: 'old.json' });
    expect(r.notes).toContain("The history in old.json has no 'history' field (another version?); its top-level arrays are read instead.");
    expect(r.notes).toContain('history.history.val_loss in old.json is read as valLoss (another version\'s name).');
    expect(titles(r.html)).toEqual(['Loss per epoch', 'Accuracy per epoch']);
  });

  it('a wrong field is a note naming it; other parts still drawn', async () => {
    const { history, stats } = await run();
    const bad = { ...history, history: { ...history.history, accuracy: 'high' } };
    const r = report(bad, stats, { source: 'x.json' });
    expect(r.notes).toContain("Expected an array of numbers for history.history.accuracy in x.json but received 'high' of type string; not shown.");
    expect(titles(r.html)).toContain('Loss per epoch');
    expect(titles(r.html)).toContain('Gradient norm ‖g‖');
  });

  it('statistics of another version and of another model are noted and still shown', async () => {
    const { history, stats } = await run();
    const other = new Sequential([new Linear({ inFeatures: 6, outFeatures: 3 })], { inputShape: [6] });
    const r = report(history, { ...stats, version: 2 }, { source: 's.json', model: other });
    expect(r.notes).toContain('The statistics in s.json are version 2 of type number (this is version 1); fields are read where they match.');
    expect(r.notes).toContain('The statistics in s.json were recorded for another model: layers Linear, Tanh, Linear, ReLU, Linear, but the model has Linear; shown as recorded.');
    expect(titles(r.html)).toContain('Activation std per layer');
    const r2 = report(null, { format: 'minibatch-stats', version: 1, layers: [], params: [], records: 'none' }, { source: 's.json' });
    expect(r2.notes).toContain("Expected an array for stats.records in s.json but received 'none' of type string; no recorded steps shown.");
  });

  it('checks its options', () => {
    expect(() => report(null, null, { out: 3 } as any)).toThrow(new TypeError('Expected non-empty string for report option out but received 3 of type number'));
    expect(() => report(null, null, { outt: 'a' } as any)).toThrow(/did you mean 'out'/);
  });
});

describe('run files', () => {
  it('saveRun / loadRun round trip; NaN saved as null is a gap with a note', async () => {
    const { history, stats, model } = await run();
    history.history.loss[1] = NaN;
    const file = path.join(tmp, 'run.json');
    saveRun(file, history, stats, model);
    const back = loadRun(file);
    expect(back.notes).toEqual([]);
    expect((back.model as any).layers.length).toBe(5);
    const r = report(back.history, back.stats, { source: file, model: back.model as any });
    expect(r.notes).toEqual([`1 of 3 values of history.history.loss in ${file} are missing, NaN or infinite (at epochs 2); shown as gaps.`]);
  });
  it('errors name the file', () => {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{ not json');
    expect(() => loadRun(bad)).toThrow(new RegExp(`^Expected JSON in ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} but it does not parse`));
    fs.writeFileSync(bad, '[1, 2]');
    expect(() => loadRun(bad)).toThrow(`Expected a run object ({ history, stats }) in ${bad} but received Array of length 2`);
    fs.writeFileSync(bad, '{"format": "minibatch-run", "version": 1, "other": 1}');
    expect(() => loadRun(bad)).toThrow(`Expected a history or stats field in ${bad} but received an object with fields format, version, other`);
    expect(() => loadRun(path.join(tmp, 'missing.json'))).toThrow(/^Cannot read .*missing\.json/);
    fs.writeFileSync(bad, '{"format": "minibatch-run", "version": 7, "history": null, "stats": null}');
    expect(loadRun(bad).notes).toEqual([`${bad} is a run file of version 7 of type number (this is version 1); fields are read where they match.`]);
  });
});

describe('initReport', () => {
  it('one panel per layer with the cases side by side', () => {
    const cases = ['xavier', 'kaiming'].map((init) => initExperiment({ layers: 3, width: 32, batch: 64, activation: 'relu', init: init as 'xavier' }));
    const r = initReport(cases);
    const d = dataOf(r.html);
    expect(d.length).toBe(4);
    expect(d.slice(1).map((s) => s.charts.length)).toEqual([2, 2, 2]);
    expect(d[1].charts[0].title).toMatch(/^relu, xavier: std 0\.\d{3}, dead \d+\.\d%$/);
    expect(r.charts).toBe(8);
    expect(() => initReport([])).toThrow(RangeError);
  });
});
