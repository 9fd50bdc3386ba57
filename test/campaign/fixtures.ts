// Small valid objects the bad-input cases start from (fresh for every case).
import * as mb from '../../lib/index';

export { mb };
export const F = (n: number, v = 0): Float32Array => new Float32Array(n).fill(v);

/** A built 4 → 3 classifier. */
export function mlp(): mb.Sequential {
  return new mb.Sequential([new mb.Linear({ inFeatures: 4, outFeatures: 8 }), new mb.ReLU(), new mb.Linear({ inFeatures: 8, outFeatures: 3 })], {
    inputShape: [4],
    seed: 1,
  });
}

/** 8 rows of 4 features and their class labels. */
export function data(n = 8): { x: mb.Tensor; y: Int32Array } {
  const x = new Float32Array(n * 4);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 1.3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % 3;
  return { x: { data: x, shape: [n, 4] }, y };
}

/** Loss and optimizer of the mlp, plus its data: a valid fit call to spoil one option of. */
export function fitArgs(): { model: mb.Sequential; x: mb.Tensor; y: Int32Array; opts: mb.FitOptions } {
  const model = mlp();
  const { x, y } = data();
  return { model, x, y, opts: { loss: new mb.CrossEntropyLoss(), optimizer: new mb.SGD(model.parameters(), { lr: 0.1 }), verbose: 0, epochs: 1, batchSize: 4 } };
}

export function detached(n = 4): Float32Array {
  const a = new Float32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

export function detachedLabels(n = 4): Int32Array {
  const a = new Int32Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}
