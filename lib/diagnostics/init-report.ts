/**
 * The initialization experiment's page: per-layer std and saturated/dead fractions of every case
 * on one chart each, then one panel per layer with the cases side by side (their histograms).
 */
import * as fs from 'fs';
import type { InitExperimentResult } from './experiment';
import { renderPage, type ChartSpec, type Section } from './page';
import { checkReportOptions } from './report';
import { describe, fail } from '../validate';
import { VERSION } from '../version';

export interface InitReportOptions {
  /** Write the page to this path. Default: not written. */
  out?: string;
  /** Page title. Default 'Initialization experiment'. */
  title?: string;
}

/** The page for one or more initExperiment / compareInits results. */
export function initReport(results: InitExperimentResult | InitExperimentResult[], options: InitReportOptions = {}): { html: string; charts: number; path?: string } {
  checkReportOptions(options, ['out', 'title'], 'initReport');
  const cases = Array.isArray(results) ? results : [results];
  if (!cases.length) fail('range', 'at least one experiment result', 'results', 'an empty array');
  cases.forEach((c, i) => {
    if (!c || typeof c !== 'object' || !Array.isArray(c.results) || typeof c.label !== 'string') fail('type', 'initExperiment result', `results[${i}]`, describe(c));
  });
  const layers = Math.max(...cases.map((c) => c.results.length));
  const x = Array.from({ length: layers }, (_, i) => i + 1);
  const perLayer = (k: 'std' | 'mean' | 'frac'): ChartSpec['series'] =>
    cases.map((c) => ({
      label: c.label,
      values: x.map((_, i) => {
        const r = c.results[i];
        if (!r) return null;
        return k === 'frac' ? (c.activation === 'tanh' ? r.saturated ?? null : r.dead ?? null) : r[k];
      }),
    }));
  const summary: Section = {
    title: 'Per layer',
    text: 'Std of each layer\'s activations, and the fraction of tanh units saturated (|y| > 0.99) or of ReLU units dead (zero for the whole batch).',
    charts: [
      { title: 'Activation std', xLabel: 'layer', yLabel: 'std', x, series: perLayer('std'), integerX: true },
      { title: 'Saturated (tanh) or dead (ReLU) fraction', xLabel: 'layer', yLabel: 'fraction', x, series: perLayer('frac'), integerX: true },
    ],
  };
  const panels: Section[] = x.map((_, li) => ({
    title: `Layer ${li + 1}`,
    charts: cases
      .filter((c) => c.results[li])
      .map((c) => {
        const r = c.results[li];
        const bins = r.hist.counts.length;
        const w = (r.hist.hi - r.hist.lo) / bins;
        const total = r.hist.counts.reduce((a, b) => a + b, 0) || 1;
        const extra = c.activation === 'tanh' ? `sat ${(100 * (r.saturated ?? 0)).toFixed(1)}%` : `dead ${(100 * (r.dead ?? 0)).toFixed(1)}%`;
        return {
          title: `${c.label}: std ${r.std.toFixed(3)}, ${extra}`,
          xLabel: 'value',
          x: Array.from({ length: bins }, (_, j) => r.hist.lo + (j + 0.5) * w),
          series: [{ label: 'fraction', values: r.hist.counts.map((v) => v / total) }],
          steps: true,
          width: 228,
          height: 170,
        };
      }),
  }));
  const first = cases[0];
  const html = renderPage(
    options.title ?? 'Initialization experiment',
    `minibatch ${VERSION} — ${first.layers} layers of ${first.width} units, batch ${first.batch}, N(0, 1) input, seed ${first.seed}`,
    [summary, ...panels],
  );
  const charts = 2 + panels.reduce((a, p) => a + p.charts.length, 0);
  if (options.out !== undefined) {
    fs.writeFileSync(options.out, html);
    return { html, charts, path: options.out };
  }
  return { html, charts };
}
