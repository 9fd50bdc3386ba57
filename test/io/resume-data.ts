// The data and model of the exact-resume test, the same in the test and its child process.
import { Sequential, Linear, BatchNorm1d, ReLU, Dropout, Generator, tensor } from '../../lib/index';
import type { Tensor } from '../../lib/index';

export function resumeData(): { x: Tensor; y: Int32Array } {
  const n = 100;
  const g = new Generator(11);
  const x = tensor(Float32Array.from({ length: n * 6 }, () => g.normal()), [n, 6]);
  const y = new Int32Array(n).map((_, i) => (x.data[i * 6] + x.data[i * 6 + 1] > 0 ? 1 : 0) + (x.data[i * 6 + 2] > 0.5 ? 1 : 0));
  return { x, y };
}

export function resumeModel(): Sequential {
  return new Sequential(
    [new Linear({ inFeatures: 6, outFeatures: 16 }), new BatchNorm1d({ numFeatures: 16 }), new ReLU(), new Dropout({ p: 0.2 }), new Linear({ inFeatures: 16, outFeatures: 3 })],
    { inputShape: [6], seed: 3 },
  );
}
