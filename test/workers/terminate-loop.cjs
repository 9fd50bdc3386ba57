// Starts hammer-worker.cjs and terminates it mid-call, `count` times, then prints "ok".
// Run as a child process: an addon that cannot drop an error in a dying worker aborts the process.
const { Worker } = require('worker_threads');
const path = require('path');
const [root, count, addonPath] = [process.argv[2], Number(process.argv[3]), process.argv[4] || undefined];
(async () => {
  for (let i = 0; i < count; i++) {
    const w = new Worker(path.join(__dirname, 'hammer-worker.cjs'), { workerData: { root, addonPath } });
    await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await new Promise((r) => setTimeout(r, (i % 4) * 0.7));
    await w.terminate();
  }
  console.log('ok');
})();
