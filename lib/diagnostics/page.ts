/**
 * One self-contained HTML page of charts: the data as inline JSON and uPlot (MIT, about 50 kB
 * minified, no dependencies, canvas drawing) inlined with its stylesheet, so the file opens from
 * disk with no network at all. uPlot was picked over Vega-Lite + vega-embed (about 1 MB with vega)
 * and ECharts (about 1 MB) for size: every report carries its own copy of the library. The
 * charts here are line charts (histograms are drawn as step lines per recorded step), which is
 * uPlot's home ground.
 */
import * as fs from 'fs';

export interface Series {
  label: string;
  values: (number | null)[];
  /** Dashed (guide lines). */
  dash?: boolean;
  /** CSS colour; default from the palette. */
  color?: string;
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel?: string;
  x: number[];
  series: Series[];
  /** Logarithmic y axis (values <= 0 are left out). */
  logY?: boolean;
  /** Draw as steps (histograms). */
  steps?: boolean;
  /** Whole-number x ticks (epochs, layers). */
  integerX?: boolean;
  /** Size in CSS pixels. Default 480 × 260. */
  width?: number;
  height?: number;
}

export interface Section {
  title: string;
  /** Shown above the charts (e.g. what the charts mean). */
  text?: string;
  notes?: string[];
  charts: ChartSpec[];
}

let uplotCache: { js: string; css: string } | null = null;

function uplotAssets(): { js: string; css: string } {
  if (!uplotCache) {
    const js = fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    const css = fs.readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    uplotCache = { js, css };
  }
  return uplotCache;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON that is safe inside a <script> element (no `</script>`, no HTML comment openers). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; }
.meta { color: #666; } .text { color: #444; max-width: 70em; }
.note { background: #fff4d6; border-left: 4px solid #e0a800; padding: 6px 10px; margin: 6px 0; max-width: 70em; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
.chart { width: 480px; } .chart h3 { overflow-wrap: anywhere; } .chart .u-legend { font-size: 11px; } .chart h3 { font-size: 13px; margin: 6px 0 2px; font-weight: 600; }
`;

const CLIENT = `
(function () {
  var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  var sections = JSON.parse(document.getElementById('mb-data').textContent);
  var drawn = 0, total = 0;
  sections.forEach(function (sec, si) {
    sec.charts.forEach(function (c, ci) {
      total++;
      var el = document.getElementById('chart-' + si + '-' + ci);
      var data = [c.x].concat(c.series.map(function (s) {
        return s.values.map(function (v) { return v === null || !isFinite(v) || (c.logY && v <= 0) ? null : v; });
      }));
      var series = [{ label: c.xLabel }].concat(c.series.map(function (s, k) {
        var o = { label: s.label, stroke: s.color || PALETTE[k % PALETTE.length], width: 1.5, spanGaps: false, points: { show: c.x.length < 40 } };
        if (s.dash) { o.dash = [6, 4]; o.points = { show: false }; }
        if (c.steps) { o.paths = uPlot.paths.stepped({ align: 1 }); o.points = { show: false }; }
        return o;
      }));
      var opts = {
        width: c.width || 480, height: c.height || 260, series: series,
        scales: { x: { time: false }, y: c.logY ? { distr: 3, log: 10 } : c.steps ? { range: function (u, mn, mx) { return [0, mx > 0 ? mx * 1.05 : 1]; } } : {} },
        axes: [
          c.integerX ? { label: c.xLabel, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : { label: c.xLabel },
          c.logY ? { label: c.yLabel || '', size: 60, values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : v.toExponential(0); }); } } : { label: c.yLabel || '', size: 60, values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : String(+v.toPrecision(4)); }); } }
        ],
        legend: { live: false, show: c.series.length > 1 }
      };
      new uPlot(opts, data, el);
      drawn++;
    });
  });
  document.body.setAttribute('data-charts', String(total));
  document.body.setAttribute('data-drawn', String(drawn));
})();
`;

/** The page as a string. */
export function renderPage(title: string, subtitle: string, sections: Section[], notes: string[] = []): string {
  const { js, css } = uplotAssets();
  const body: string[] = [];
  body.push(`<h1>${escapeHtml(title)}</h1>`, `<div class="meta">${escapeHtml(subtitle)}</div>`);
  for (const n of notes) body.push(`<div class="note">${escapeHtml(n)}</div>`);
  sections.forEach((sec, si) => {
    body.push(`<h2>${escapeHtml(sec.title)}</h2>`);
    if (sec.text) body.push(`<div class="text">${escapeHtml(sec.text)}</div>`);
    for (const n of sec.notes ?? []) body.push(`<div class="note">${escapeHtml(n)}</div>`);
    body.push('<div class="charts">');
    sec.charts.forEach((c, ci) => body.push(`<div class="chart" style="width:${c.width ?? 480}px"><h3>${escapeHtml(c.title)}</h3><div id="chart-${si}-${ci}"></div></div>`));
    body.push('</div>');
  });
  const data = sections.map((s) => ({ charts: s.charts }));
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>`,
    `<style>${css}</style><style>${STYLE}</style>`,
    '</head><body>',
    ...body,
    `<script type="application/json" id="mb-data">${scriptJson(data)}</script>`,
    `<script>${js}</script>`,
    `<script>${CLIENT}</script>`,
    '</body></html>',
  ].join('\n');
}
