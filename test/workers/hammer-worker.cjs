// Loads the addon in a worker_thread and calls a kernel whose glue reads a params object, in a
// tight loop, until the worker is terminated (the glue's property reads then fail mid-call).
const { parentPort, workerData } = require('worker_threads');
const addon = workerData.addonPath ? require(workerData.addonPath) : require('node-gyp-build')(workerData.root);

const p = { n: 1, cIn: 1, h: 6, w: 6, cOut: 2, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, outH: 6, outW: 6 };
const x = new Float32Array(36).fill(1), w = new Float32Array(18).fill(0.5), y = new Float32Array(72);
const ws = new Float32Array(addon.conv2dWorkspaceSize(p));
parentPort.postMessage('started');
for (;;) addon.conv2dForward(y, x, w, null, ws, p);
