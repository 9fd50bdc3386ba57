// The main job: examples/mnist.ts (the CNN, its 8 epochs, batch 64, Adam 0.002 with cosine
// annealing, a 10% validation split of the 8,000 training digits, 2,000 test digits) run as is, and
// the same model trained the same way in PyTorch (bench/py/mnist.py) on the same standardized
// digits, both with 2 threads. Prints both wall times and test accuracies. The example's time is its
// whole run (loading the digits from JSON included); PyTorch's is training plus evaluations, so the
// comparison leans towards PyTorch. The validation digits are a seeded 10% of the same 8,000 in
// both, not the same 10% (each library shuffles with its own generator).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChannelNormalizer, tensor } from '../lib/index';
import { loadMnist } from '../examples/mnist-data';
import { pythonHas, runPython } from './peers';
import { table, fmt } from './util';

const THREADS = 2;
const EPOCHS = Number(process.env.MNIST_BENCH_EPOCHS ?? 8);

export async function run(): Promise<string> {
  const load0 = os.loadavg()[0];
  const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
  const ex = spawnSync(tsx, [path.join(__dirname, '..', 'examples', 'mnist.ts'), '--threads', String(THREADS), '--epochs', String(EPOCHS)], {
    encoding: 'utf8', maxBuffer: 1 << 26,
  });
  const m = /test accuracy ([\d.]+)% \(loss ([\d.]+)\) on \d+ digits — ([\d.]+) s in all/.exec(ex.stdout ?? '');
  if (ex.status !== 0 || !m) throw new Error(`mnist bench: examples/mnist.ts failed: ${ex.stderr?.slice(-500)}`);
  const ours = { seconds: Number(m[3]), accuracy: Number(m[1]), loss: Number(m[2]) };

  let torch: { seconds: number; accuracy: number; loss: number } | null = null;
  if (pythonHas('torch') && pythonHas('numpy')) {
    const data = loadMnist();
    const norm = new ChannelNormalizer();
    const xTrain = norm.fit(tensor(data.xTrain, [data.nTrain, 1, 28, 28])).transform(tensor(data.xTrain, [data.nTrain, 1, 28, 28]));
    const xTest = norm.transform(tensor(data.xTest, [data.nTest, 1, 28, 28]));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-mnist-'));
    try {
      const put = (name: string, a: Float32Array | Int32Array) => fs.writeFileSync(path.join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
      put('xTrain.f32', xTrain.data);
      put('yTrain.i32', data.yTrain);
      put('xTest.f32', xTest.data);
      put('yTest.i32', data.yTest);
      const out = runPython('mnist.py', { dir, nTrain: data.nTrain, nTest: data.nTest, epochs: EPOCHS, batchSize: 64, lr: 0.002, valFraction: 0.1, seed: 0 }, THREADS);
      if (out) torch = { seconds: out.seconds, accuracy: 100 * out.accuracy, loss: out.loss };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const rows: (string | number)[][] = [['minibatch (examples/mnist.ts, whole run)', fmt(ours.seconds), ours.accuracy.toFixed(2) + '%', ours.loss.toFixed(4)]];
  if (torch) rows.push(['PyTorch (bench/py/mnist.py, training + evaluation)', fmt(torch.seconds), torch.accuracy.toFixed(2) + '%', torch.loss.toFixed(4)]);
  return [
    table(`MNIST CNN, ${EPOCHS} epochs, batch 64, ${THREADS} threads`, ['run', 'seconds', 'test accuracy', 'test loss'], rows),
    '',
    torch
      ? `- speed-up ${fmt(torch.seconds / ours.seconds)}× (PyTorch seconds / minibatch seconds); accuracy difference ${(ours.accuracy - torch.accuracy).toFixed(2)} points.`
      : '- torch or numpy is not installed for /usr/bin/python3: the PyTorch row is skipped.',
    `- load average ${load0.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end, on ${os.cpus().length} CPUs.`,
  ].join('\n');
}
