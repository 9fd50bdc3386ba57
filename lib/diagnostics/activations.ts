/**
 * Per-layer activation statistics — the lecture's lesson made visible: run a batch through a model
 * and see, layer by layer, the mean and spread of the activations, how many tanh/sigmoid units sit
 * saturated and how many ReLU units are dead. Bad initialization shows up as activations collapsing
 * to zero or saturating with depth; BatchNorm shows up as unit-variance pre-activations.
 */
import { Sequential } from '../model';
import type { Tensor } from '../tensor';
import { checkFiniteData, toTensor } from '../tensor';
import { describe, fail, formatShape } from '../validate';

export interface LayerStats {
  index: number;
  layer: string;
  className: string;
  shape: number[];
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Fraction of exact zeros in the output. */
  zeros: number;
  /** Fraction of units (features/channels) that are zero for every sample of the batch (ReLU family). */
  deadUnits?: number;
  /** Fraction of outputs in the flat tails: |y| > 0.99 for tanh, y < 0.01 or y > 0.99 for sigmoid. */
  saturated?: number;
}

/**
 * Forward pass of x through the model in its current mode (training mode updates BatchNorm running
 * statistics, as any training forward does; call model.eval() first to avoid it), collecting each
 * layer's output statistics.
 */
export function activationStats(model: Sequential, x: Tensor | unknown): LayerStats[] {
  if (!(model instanceof Sequential)) fail('type', 'Sequential model', 'model', describe(model));
  let t = toTensor(x, 'x');
  if (t.shape.length < 2) fail('range', 'a batch of samples [N, ...]', 'x', `tensor of shape ${formatShape(t.shape)}`);
  checkFiniteData(t, 'x');
  if (!model.built) model.build(t.shape.slice(1));
  if (formatShape(t.shape.slice(1)) !== formatShape(model.inputShape!)) {
    fail('range', `samples of shape ${formatShape(model.inputShape!)} (the model's input)`, 'x', `tensor of shape ${formatShape(t.shape)}`);
  }
  const stats: LayerStats[] = [];
  model.layers.forEach((layer, index) => {
    t = layer.forward(t);
    const d = t.data;
    let sum = 0;
    let sq = 0;
    let min = Infinity;
    let max = -Infinity;
    let zeros = 0;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      sum += v;
      sq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v === 0) zeros++;
    }
    const mean = sum / d.length;
    const s: LayerStats = {
      index,
      layer: layer.name,
      className: layer.className,
      shape: [...t.shape],
      mean,
      std: Math.sqrt(Math.max(0, sq / d.length - mean * mean)),
      min,
      max,
      zeros: zeros / d.length,
    };
    const cls = layer.className;
    if (cls === 'ReLU') {
      // a unit is a feature (2-D) or a channel (4-D)
      const n = t.shape[0];
      const units = t.shape[1];
      const inner = d.length / (n * units);
      let dead = 0;
      for (let u = 0; u < units; u++) {
        let alive = false;
        for (let b = 0; b < n && !alive; b++) {
          const base = (b * units + u) * inner;
          for (let i = 0; i < inner; i++) if (d[base + i] !== 0) {
            alive = true;
            break;
          }
        }
        if (!alive) dead++;
      }
      s.deadUnits = dead / units;
    } else if (cls === 'Tanh' || cls === 'Sigmoid') {
      let sat = 0;
      for (let i = 0; i < d.length; i++) {
        const v = d[i];
        if (cls === 'Tanh' ? Math.abs(v) > 0.99 : v < 0.01 || v > 0.99) sat++;
      }
      s.saturated = sat / d.length;
    }
    stats.push(s);
  });
  return stats;
}

/** The statistics as an aligned text table. */
export function formatStats(stats: LayerStats[]): string {
  if (!Array.isArray(stats)) fail('type', 'array of layer statistics (from activationStats)', 'stats', describe(stats));
  stats.forEach((s, i) => {
    if (s === null || typeof s !== 'object' || typeof s.mean !== 'number' || typeof s.std !== 'number' || typeof s.zeros !== 'number') {
      fail('type', 'layer statistics from activationStats', `stats[${i}]`, describe(s));
    }
  });
  const rows = [['#', 'layer', 'mean', 'std', 'zeros', 'dead', 'saturated']];
  for (const s of stats) {
    rows.push([
      String(s.index),
      `${s.className} (${s.layer})`,
      s.mean.toFixed(4),
      s.std.toFixed(4),
      `${(100 * s.zeros).toFixed(1)}%`,
      s.deadUnits === undefined ? '' : `${(100 * s.deadUnits).toFixed(1)}%`,
      s.saturated === undefined ? '' : `${(100 * s.saturated).toFixed(1)}%`,
    ]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((c, i) => (i >= 2 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ')).join('\n');
}
