// 10,000 training steps of a small model through fit (and predict/evaluate every epoch), sampling
// heap and RSS after a forced GC: prints one JSON line with the samples. Run with --expose-gc.
import * as mb from '../../lib/index';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 10_000);
  mb.setNumThreads(1); // tiny kernels: threads would only add wake-ups
  const n = 64;
  const batchSize = 8;
  const x = new Float32Array(n * 2 * 4 * 4).map((_, i) => Math.sin(i * 0.37));
  const y = new Int32Array(n).map((_, i) => i % 3);
  const model = new mb.Sequential([
    new mb.Conv2d({ inChannels: 2, outChannels: 4, kernelSize: 3, padding: 1 }),
    new mb.BatchNorm2d({ numFeatures: 4 }),
    new mb.ReLU(),
    new mb.MaxPool2d({ kernelSize: 2 }),
    new mb.Flatten(),
    new mb.Dropout({ p: 0.2 }),
    new mb.Linear({ inFeatures: 16, outFeatures: 8 }),
    new mb.Tanh(),
    new mb.LayerNorm({ normalizedShape: 8 }),
    new mb.Linear({ inFeatures: 8, outFeatures: 3 }),
  ], { inputShape: [2, 4, 4], seed: 3 });
  const optimizer = new mb.Adam(model.parameters(), { lr: 1e-3 });
  const schedule = new mb.CosineAnnealingLR(optimizer, { tMax: 50 });
  const loss = new mb.CrossEntropyLoss();
  const xt = { data: x, shape: [n, 2, 4, 4] };
  const samples: { step: number; heap: number; external: number; rss: number }[] = [];
  let step = 0;
  const sample = (): void => {
    gc!();
    const m = process.memoryUsage();
    samples.push({ step, heap: m.heapUsed, external: m.external + m.arrayBuffers, rss: m.rss });
  };
  const epochs = Math.ceil(steps / (n / batchSize));
  await mb.fit(model, xt, y, {
    epochs, batchSize, loss, optimizer, verbose: 0, metrics: ['accuracy'],
    callbacks: [{
      onBatchEnd: () => {
        step++;
        if (step % 1000 === 0) sample();
      },
      onEpochEnd: async () => {
        schedule.step();
        if (schedule.lastEpoch % 50 === 0) {
          await mb.predict(model, xt, { batchSize: 16 });
          await mb.evaluate(model, xt, y, { loss, metrics: ['accuracy'] });
        }
      },
    }],
  });
  process.stdout.write(JSON.stringify({ steps: step, samples }) + '\n');
}

main().catch((e) => {
  process.stderr.write(String((e as Error).stack));
  process.exit(1);
});
