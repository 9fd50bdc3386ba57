// Child process of bench/threads.ts: loads the library under the OpenMP environment it was given,
// then times either CNN training steps (batch 64, the train bench's CNN) or one-row MLP predictions
// for a fixed wall time, and prints one JSON line: median and p90 milliseconds, calls, CPU seconds
// used per call (spinning threads show up here), and the wait policy the library reports.
import { Sequential, Conv2d, BatchNorm2d, BatchNorm1d, ReLU, MaxPool2d, Flatten, Linear, CrossEntropyLoss, SGD, setNumThreads, capabilities } from '../lib/index';

const mode = process.argv[2] ?? 'cnn';
const ms = Number(process.argv[3] ?? 2000);
setNumThreads(Number(process.argv[4] ?? 2));

function sinData(n: number): Float32Array {
  return new Float32Array(n).map((_, i) => Math.sin(i));
}

let call: () => void;
if (mode === 'cnn') {
  const m = new Sequential([
    new Conv2d({ inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1 }), new BatchNorm2d({ numFeatures: 16 }), new ReLU(),
    new MaxPool2d({ kernelSize: 2 }), new Conv2d({ inChannels: 16, outChannels: 32, kernelSize: 3, padding: 1 }),
    new BatchNorm2d({ numFeatures: 32 }), new ReLU(), new MaxPool2d({ kernelSize: 2 }), new Flatten(),
    new Linear({ inFeatures: 32 * 7 * 7, outFeatures: 10 }),
  ], { inputShape: [1, 28, 28], seed: 0 });
  const x = { data: sinData(64 * 784), shape: [64, 1, 28, 28] };
  const y = Int32Array.from({ length: 64 }, (_, i) => i % 10);
  const loss = new CrossEntropyLoss();
  const opt = new SGD(m.parameters(), { lr: 0.01, momentum: 0.9 });
  call = () => {
    opt.zeroGrad();
    loss.forward(m.forward(x), y);
    m.backward(loss.backward());
    opt.step();
  };
} else {
  const m = new Sequential([
    new Linear({ inFeatures: 784, outFeatures: 256 }), new BatchNorm1d({ numFeatures: 256 }), new ReLU(),
    new Linear({ inFeatures: 256, outFeatures: 10 }),
  ], { inputShape: [784], seed: 0 });
  m.eval();
  const x = { data: sinData(784), shape: [1, 784] };
  call = () => void m.forward(x);
}

for (let i = 0; i < 5; i++) call();
const c0 = process.cpuUsage();
const samples: number[] = [];
const end = performance.now() + ms;
while (performance.now() < end) {
  const t = performance.now();
  call();
  samples.push(performance.now() - t);
}
const cpu = process.cpuUsage(c0);
samples.sort((a, b) => a - b);
console.log(JSON.stringify({
  median: samples[samples.length >> 1], p90: samples[Math.floor(samples.length * 0.9)], calls: samples.length,
  cpuMsPerCall: (cpu.user + cpu.system) / 1000 / samples.length, waitPolicy: capabilities().waitPolicy,
}));
