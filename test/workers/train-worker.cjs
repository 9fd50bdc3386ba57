// Trains a small model inside a worker_thread through the library (TypeScript sources via tsx)
// and posts the trained parameters; with `hang`, it starts a long training and announces it.
const { parentPort, workerData } = require('worker_threads');
const path = require('path');
require(require.resolve('tsx/cjs/api', { paths: [workerData.root] })).register();
const mb = require(path.join(workerData.root, 'lib', 'index.ts'));

const { seed, n, offThread, hang } = workerData;
const model = new mb.Sequential(
  [
    new mb.Conv2d({ inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1 }),
    new mb.BatchNorm2d({ numFeatures: 4 }),
    new mb.ReLU(),
    new mb.Flatten(),
    new mb.Linear({ inFeatures: 256, outFeatures: 3 }),
  ],
  { inputShape: [1, 8, 8], seed },
);
const x = { data: Float32Array.from({ length: n * 64 }, (_, i) => Math.sin(i * (seed + 1))), shape: [n, 1, 8, 8] };
const y = Int32Array.from({ length: n }, (_, i) => (i * (seed + 2)) % 3);
const opt = new mb.Adam(model.parameters(), { lr: 0.01 });
const run = mb.fit(model, x, y, {
  epochs: hang ? 1000 : 3, batchSize: 8, loss: new mb.CrossEntropyLoss(), optimizer: opt, verbose: 0, seed, offThread: !!offThread,
  callbacks: hang ? [{ onBatchEnd: (b) => b === 2 && parentPort.postMessage({ started: true }) }] : [],
});
run.then(() => parentPort.postMessage({ params: Float32Array.from(model.parameters().data) }));
