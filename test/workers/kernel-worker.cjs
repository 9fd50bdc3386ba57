// Loads the addon inside a worker_thread and runs kernels on the data it is given.
const { parentPort, workerData } = require('worker_threads');
const path = require('path');
const addon = workerData.addonPath ? require(workerData.addonPath) : require('node-gyp-build')(workerData.root);

addon.setNumThreads(workerData.threads);
const { m, n, k, a, b, x } = workerData;
const c = new Float32Array(m * n);
const y = new Float32Array(x.length);
for (let rep = 0; rep < workerData.repeats; rep++) {
  addon.gemm(false, true, m, n, k, 1, a, b, 0, c);
  addon.activation('sigmoid', y, x, x.length, 0);
}
parentPort.postMessage({ c, y, threads: addon.getNumThreads(), info: addon.nativeInfo() });
