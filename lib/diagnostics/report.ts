/**
 * The training report: one self-contained HTML page (see page.ts) with the loss and accuracy per
 * epoch (and per step when statistics were recorded), the learning rate, per-layer activation
 * histograms over time, dead and saturated fractions, gradient norms and update ratios with the
 * 1e-3 guide line. Input is taken as it comes — a history or statistics of another version, an
 * empty history, NaN or Infinity (null in JSON) — and the page is made from what can be read, with a
 * visible note naming the source and the field wherever data is missing.
 */
import * as fs from 'fs';
import type { StatsJSON, StepRecord } from './recorder';
import { StatsRecorder } from './recorder';
import { renderPage, type ChartSpec, type Section, type Series } from './page';
import { checkOptions, describe, fail } from '../validate';
import { VERSION } from '../version';

export interface ReportOptions {
  /** Write the page to this path. Default: not written (the HTML is returned). */
  out?: string;
  /** Page title. Default 'Training report'. */
  title?: string;
  /**
   * The model the statistics should describe (a Sequential or its getConfig()); a mismatch with
   * the recorded layers is noted on the page.
   */
  model?: { getConfig(): Record<string, unknown> } | Record<string, unknown>;
  /** Where the data came from, for the notes (a file name). Default 'the data given'. */
  source?: string;
  /** Notes to show besides the ones the report finds (e.g. from reading a file). */
  notes?: string[];
}

export interface ReportResult {
  html: string;
  /** The notes shown on the page (missing or unreadable data). */
  notes: string[];
  /** Number of charts on the page. */
  charts: number;
  /** The path written, when options.out was given. */
  path?: string;
}

type Num = number | null;

/** Finite numbers of an array, others null; notes what was missing. */
function numbers(v: unknown, field: string, src: string, notes: string[], xs?: number[]): Num[] | null {
  if (v === undefined) return null;
  if (!Array.isArray(v)) {
    notes.push(`Expected an array of numbers for ${field} in ${src} but received ${describe(v)}; not shown.`);
    return null;
  }
  const bad: number[] = [];
  const out = v.map((e, i) => {
    if (typeof e === 'number' && Number.isFinite(e)) return e;
    bad.push(xs ? xs[i] ?? i : i);
    return null;
  });
  if (bad.length) {
    const where = bad.slice(0, 8).join(', ') + (bad.length > 8 ? ', ...' : '');
    notes.push(`${bad.length} of ${v.length} values of ${field} in ${src} are missing, NaN or infinite (at ${xs ? 'epochs' : 'positions'} ${where}); shown as gaps.`);
  }
  return out;
}

const ALIASES: Record<string, string> = { val_loss: 'valLoss', acc: 'accuracy', val_acc: 'valAccuracy', val_accuracy: 'valAccuracy' };

function historySection(h: unknown, src: string): Section {
  const sec: Section = { title: 'Training', charts: [], notes: [] };
  const n = sec.notes!;
  if (h === undefined || h === null) {
    n.push(`No training history in ${src}.`);
    return sec;
  }
  if (typeof h !== 'object' || Array.isArray(h)) {
    n.push(`Expected a history object ({ epoch, history: { loss, ... } }) for history in ${src} but received ${describe(h)}; not shown.`);
    return sec;
  }
  const ho = h as Record<string, unknown>;
  let metrics = ho.history as Record<string, unknown> | undefined;
  if (metrics === undefined && Array.isArray(ho.loss)) {
    n.push(`The history in ${src} has no 'history' field (another version?); its top-level arrays are read instead.`);
    metrics = ho;
  }
  if (!metrics || typeof metrics !== 'object') {
    n.push(`Expected an object of per-epoch arrays for history.history in ${src} but received ${describe(metrics)}; not shown.`);
    return sec;
  }
  const m: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (k === 'epoch') continue;
    if (ALIASES[k]) {
      n.push(`history.history.${k} in ${src} is read as ${ALIASES[k]} (another version's name).`);
      m[ALIASES[k]] = v;
    } else m[k] = v;
  }
  const lossLen = Array.isArray(m.loss) ? m.loss.length : 0;
  let epochs: number[];
  if (Array.isArray(ho.epoch) && ho.epoch.every((e) => typeof e === 'number' && Number.isFinite(e))) epochs = (ho.epoch as number[]).map((e) => e + 1);
  else {
    if (ho.epoch !== undefined && metrics !== ho) n.push(`Expected an array of epoch numbers for history.epoch in ${src} but received ${describe(ho.epoch)}; epochs are counted from 1.`);
    epochs = Array.from({ length: lossLen }, (_, i) => i + 1);
  }
  if (lossLen === 0 && epochs.length === 0) {
    n.push(`The history in ${src} is empty (no epoch finished).`);
    return sec;
  }
  const get = (k: string) => numbers(m[k], `history.history.${k}`, src, n, epochs);
  const line = (title: string, y: string, parts: [string, Num[] | null][]) => {
    const series: Series[] = parts.filter((p) => p[1] !== null).map(([label, values]) => ({ label, values: fit(values!, epochs.length) }));
    if (series.length) sec.charts.push({ title, xLabel: 'epoch', yLabel: y, x: epochs, series, integerX: true });
  };
  const loss = get('loss');
  if (!loss) n.push(`No history.history.loss in ${src}.`);
  line('Loss per epoch', 'loss', [['training', loss], ['validation', get('valLoss')]]);
  line('Accuracy per epoch', 'accuracy', [['training', get('accuracy')], ['validation', get('valAccuracy')]]);
  if (m.lr !== undefined) line('Learning rate per epoch', 'lr', [['lr', get('lr')]]);
  return sec;
}

function fit(v: Num[], len: number): Num[] {
  if (v.length === len) return v;
  return Array.from({ length: len }, (_, i) => (i < v.length ? v[i] : null));
}

interface StatsLayerInfo { index: number; name: string; className: string; hist: { lo: number; hi: number; bins: number } | null }

function layerLabel(l: StatsLayerInfo): string {
  return `${l.index} ${l.className}`;
}

function modelLayers(model: ReportOptions['model']): string[] | null {
  if (!model) return null;
  const cfg = typeof (model as { getConfig?: unknown }).getConfig === 'function' ? (model as { getConfig(): Record<string, unknown> }).getConfig() : (model as Record<string, unknown>);
  const layers = cfg.layers;
  if (!Array.isArray(layers)) return null;
  return layers.map((l) => String((l as { className?: unknown })?.className));
}

function statsSections(s: unknown, src: string, model: ReportOptions['model']): Section[] {
  const training: Section = { title: 'Training steps', charts: [], notes: [] };
  const n = training.notes!;
  if (s === undefined || s === null) {
    n.push(`No statistics in ${src}: record them with a StatsRecorder to see activations, gradients and update ratios.`);
    return [training];
  }
  if (typeof s !== 'object' || Array.isArray(s)) {
    n.push(`Expected a statistics object (StatsRecorder.toJSON()) for stats in ${src} but received ${describe(s)}; not shown.`);
    return [training];
  }
  const so = s as Partial<StatsJSON> & Record<string, unknown>;
  if (so.format !== 'minibatch-stats') n.push(`Expected 'minibatch-stats' for stats.format in ${src} but received ${describe(so.format)}; reading it anyway.`);
  else if (so.version !== 1) n.push(`The statistics in ${src} are version ${describe(so.version)} (this is version 1); fields are read where they match.`);
  const layers: StatsLayerInfo[] = Array.isArray(so.layers)
    ? so.layers.filter((l) => l && typeof l === 'object').map((l, i) => ({ index: typeof l.index === 'number' ? l.index : i, name: String(l.name ?? i), className: String(l.className ?? '?'), hist: l.hist && typeof l.hist === 'object' ? l.hist : null }))
    : [];
  if (!Array.isArray(so.layers)) n.push(`Expected an array for stats.layers in ${src} but received ${describe(so.layers)}; activations not shown.`);
  const want = modelLayers(model);
  if (want && layers.length && want.join(',') !== layers.map((l) => l.className).join(',')) {
    n.push(`The statistics in ${src} were recorded for another model: layers ${layers.map((l) => l.className).join(', ')}, but the model has ${want.join(', ')}; shown as recorded.`);
  }
  const params: string[] = Array.isArray(so.params) ? so.params.map((p, i) => String((p as { name?: unknown })?.name ?? `param ${i}`)) : [];
  const losses = so.losses === undefined ? null : numbers(so.losses, 'stats.losses', src, n);
  if (losses && losses.length) {
    training.charts.push({ title: 'Loss per step', xLabel: 'step', yLabel: 'loss', x: losses.map((_, i) => i), series: [{ label: 'loss', values: losses }] });
  }
  const records: StepRecord[] = [];
  if (!Array.isArray(so.records)) n.push(`Expected an array for stats.records in ${src} but received ${describe(so.records)}; no recorded steps shown.`);
  else {
    let bad = 0;
    for (const r of so.records) {
      if (r && typeof r === 'object' && typeof r.step === 'number' && Array.isArray(r.layers) && Array.isArray(r.params)) records.push(r);
      else bad++;
    }
    if (bad) n.push(`${bad} of ${so.records.length} entries of stats.records in ${src} are not step records (step, layers, params); left out.`);
    if (!so.records.length) n.push(`stats.records in ${src} is empty: no step was recorded.`);
  }
  if (!records.length) return [training];
  const steps = records.map((r) => r.step);
  const lr = records.map((r) => (typeof r.lr === 'number' && Number.isFinite(r.lr) ? r.lr : null));
  if (lr.some((v) => v !== null)) training.charts.push({ title: 'Learning rate', xLabel: 'step', yLabel: 'lr', x: steps, series: [{ label: 'lr', values: lr }] });
  else n.push(`No learning rate in stats.records of ${src} (give the StatsRecorder the optimizer to record it).`);
  return [training, activationSection(layers, records, steps, src), gradientSection(params, records, steps, src)];
}

/** Per-layer std, mean, dead / saturated fractions and histograms over the recorded steps. */
function activationSection(layers: StatsLayerInfo[], records: StepRecord[], steps: number[], src: string): Section {
  const acts: Section = {
    title: 'Activations',
    text: 'Per-layer output statistics at the recorded steps. Healthy layers keep a steady spread; collapsing std, many saturated tanh/sigmoid units or dead ReLU units are the signs of a bad initialization or learning rate.',
    charts: [],
    notes: [],
  };
  const field = (li: number, k: string): Num[] =>
    records.map((r) => {
      const v = (r.layers[li] as unknown as Record<string, unknown> | undefined)?.[k];
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    });
  const mismatch = records.filter((r) => r.layers.length !== layers.length).length;
  if (mismatch) acts.notes!.push(`${mismatch} records in ${src} have a layer count other than stats.layers (${layers.length}); their missing layers are gaps.`);
  const nonFinite = records.reduce((a, r) => a + r.layers.reduce((b, l) => b + (typeof l?.nonFinite === 'number' ? l.nonFinite : 0), 0), 0);
  if (nonFinite) acts.notes!.push(`${nonFinite} NaN or infinite activation values were seen at the recorded steps (left out of the numbers).`);
  const layerSeries = (k: string, only?: (l: StatsLayerInfo) => boolean): Series[] =>
    layers.filter((l) => !only || only(l)).map((l) => ({ label: layerLabel(l), values: field(layers.indexOf(l), k) }));
  acts.charts.push({ title: 'Activation std per layer', xLabel: 'step', yLabel: 'std', x: steps, series: layerSeries('std') });
  acts.charts.push({ title: 'Activation mean per layer', xLabel: 'step', yLabel: 'mean', x: steps, series: layerSeries('mean') });
  const sat = layerSeries('saturated', (l) => l.className === 'Tanh' || l.className === 'Sigmoid');
  const dead = layerSeries('dead', (l) => l.className === 'ReLU');
  if (sat.length || dead.length) {
    acts.charts.push({
      title: 'Dead (ReLU) and saturated (tanh, sigmoid) fraction',
      xLabel: 'step',
      yLabel: 'fraction',
      x: steps,
      series: [...dead.map((s) => ({ ...s, label: `${s.label} dead` })), ...sat.map((s) => ({ ...s, label: `${s.label} saturated` }))],
    });
  } else acts.notes!.push('No ReLU, Tanh or Sigmoid layers: no dead or saturated fractions to show.');
  layers.forEach((l, li) => {
    const c = histogramChart(l, li, records);
    if (c) acts.charts.push(c);
  });
  return acts;
}

/** Gradient norms and update ratios per parameter (log axes, the 1e-3 guide line). */
function gradientSection(params: string[], records: StepRecord[], steps: number[], src: string): Section {
  const grads: Section = {
    title: 'Gradients and updates',
    text: 'Gradient norm and update-to-weight ratio ‖Δw‖/‖w‖ of each parameter at the recorded steps; a ratio near 1e-3 (dashed) is the sign of a good learning rate.',
    charts: [],
    notes: [],
  };
  const pfield = (pi: number, k: 'gradNorm' | 'updateRatio'): Num[] =>
    records.map((r) => {
      const v = r.params[pi]?.[k];
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    });
  if (params.length) {
    grads.charts.push({ title: 'Gradient norm ‖g‖', xLabel: 'step', yLabel: '‖g‖', x: steps, logY: true, series: params.map((p, i) => ({ label: p, values: pfield(i, 'gradNorm') })) });
    grads.charts.push({
      title: 'Update ratio ‖Δw‖/‖w‖',
      xLabel: 'step',
      yLabel: 'ratio',
      x: steps,
      logY: true,
      series: [...params.map((p, i) => ({ label: p, values: pfield(i, 'updateRatio') })), { label: '1e-3', values: steps.map(() => 1e-3), dash: true, color: '#000' }],
    });
  } else grads.notes!.push(`No parameters listed in stats.params of ${src}.`);
  return grads;
}

function histogramChart(l: StatsLayerInfo, li: number, records: StepRecord[]): ChartSpec | null {
  const h = l.hist;
  if (!h || !(h.bins > 0) || !(h.hi > h.lo)) return null;
  const width = (h.hi - h.lo) / h.bins;
  const x = Array.from({ length: h.bins }, (_, j) => h.lo + (j + 0.5) * width);
  const have = records.filter((r) => Array.isArray(r.layers[li]?.hist) && r.layers[li].hist.length === h.bins);
  if (!have.length) return null;
  const k = Math.min(6, have.length);
  const pick = Array.from(new Set(Array.from({ length: k }, (_, i) => Math.round((i * (have.length - 1)) / Math.max(1, k - 1)))));
  const series: Series[] = pick.map((idx, j) => {
    const r = have[idx];
    const counts = r.layers[li].hist;
    const total = counts.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) || 1;
    const light = 80 - Math.round((50 * j) / Math.max(1, pick.length - 1));
    return { label: `step ${r.step}`, values: counts.map((c) => (Number.isFinite(c) ? c / total : null)), color: `hsl(215, 70%, ${light}%)` };
  });
  return { title: `Histogram: layer ${layerLabel(l)} (${l.name}) over time`, xLabel: 'value', yLabel: 'fraction', x, series, steps: true };
}

/** Builds the training report from a fit history and StatsRecorder statistics (either may be null). */
export function report(history: unknown, stats: unknown, options: ReportOptions = {}): ReportResult {
  checkReportOptions(options, ['out', 'title', 'model', 'source', 'notes'], 'report');
  const src = options.source ?? 'the data given';
  const s = stats instanceof StatsRecorder ? stats.toJSON() : stats;
  const notes: string[] = Array.isArray(options.notes) ? options.notes.map(String) : [];
  const sections = [historySection(history, src), ...statsSections(s, src, options.model)];
  const shown = sections.filter((x) => x.charts.length || x.notes?.length);
  const all = shown.flatMap((x) => x.notes ?? []);
  const charts = shown.reduce((a, x) => a + x.charts.length, 0);
  if (charts === 0) notes.push(`Nothing to draw from ${src}: see the notes below.`);
  const html = renderPage(options.title ?? 'Training report', `minibatch ${VERSION} — made ${new Date().toISOString()}`, shown, notes);
  const res: ReportResult = { html, notes: [...notes, ...all], charts };
  if (options.out !== undefined) {
    fs.writeFileSync(options.out, html);
    res.path = options.out;
  }
  return res;
}

/** Checks the options every page writer shares. */
export function checkReportOptions(options: unknown, keys: string[], name: string): void {
  checkOptions(options, keys, name);
  const o = (options ?? {}) as Record<string, unknown>;
  for (const k of ['out', 'title', 'source']) {
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) fail('type', 'non-empty string', `${name} option ${k}`, describe(o[k]));
  }
}
