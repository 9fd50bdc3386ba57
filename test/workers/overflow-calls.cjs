// Child process of test/kernels/overflow.test.ts: calls the addon at argv[2] with sizes whose
// products wrap 64-bit (or pass 2^32) and prints, per call, the error it threw as JSON lines. A
// crash (SIGSEGV, abort) shows as a signal or a missing line in the parent.
'use strict';
const addon = require(process.argv[2]);
const F = (n) => new Float32Array(n);
const I = (n) => new Int32Array(n);
const big = 2 ** 21;
const conv = (o) => ({ n: 1, cIn: 1, h: 1, w: 1, cOut: 1, kH: 1, kW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, outH: 1, outW: 1, ...o });
const pool = (o) => ({ n: 1, c: 1, h: 1, w: 1, kH: 1, kW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0, outH: 1, outW: 1, ...o });
const calls = {
  // the call that crashed, and its siblings through every norm entry
  batchNormInference: () => addon.batchNormInference(F(16), F(16), F(big), F(big).fill(1), null, null, big, big, 2 ** 22, 1e-5),
  batchNormForward: () => addon.batchNormForward(F(16), F(big), F(big), F(big), F(16), null, null, big, big, 2 ** 22, 1e-5),
  batchNormBackward: () => addon.batchNormBackward(F(16), null, null, F(16), F(16), F(big), F(big), null, big, big, 2 ** 22),
  groupNormForward: () => addon.groupNormForward(F(16), F(16), F(16), F(16), null, null, big, big, 2 ** 22, 1, 1e-5),
  groupNormBackward: () => addon.groupNormBackward(F(16), null, null, F(16), F(16), F(16), F(16), null, big, big, 2 ** 22, 1),
  'normReference.batchNormForward': () => addon.normReference.batchNormForward(F(16), F(big), F(big), F(big), F(16), null, null, big, big, 2 ** 22, 1e-5),
  'normReference.groupNormBackward': () => addon.normReference.groupNormBackward(F(16), null, null, F(16), F(16), F(16), F(16), null, big, big, 2 ** 22, 1),
  // the other glue families
  gemm: () => addon.gemm(false, false, 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 1, F(16), F(16), 0, F(16)),
  softmaxCrossEntropy: () => addon.softmaxCrossEntropy(F(16), F(16), I(2 ** 16), 2 ** 16, 2 ** 31 - 1),
  maxoutForward: () => addon.maxoutForward(F(16), I(16), F(16), 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1),
  biasAdd: () => addon.biasAdd(F(16), F(16), 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1),
  conv2dForward: () => addon.conv2dForward(F(16), F(16), F(16), null, F(16), conv({ n: 2 ** 31 - 1, cIn: 2 ** 31 - 1, h: 2 ** 31 - 1, w: 1, kH: 1, outH: 2 ** 31 - 1 })),
  im2col: () => addon.im2col(F(16), F(16), conv({ cIn: 2 ** 20, h: 2 ** 20, w: 2 ** 20, outH: 2 ** 20, outW: 2 ** 20 })),
  maxPool2dForward: () => addon.maxPool2dForward(F(16), I(16), F(16), pool({ n: 2 ** 31 - 1, c: 2 ** 31 - 1, h: 2 ** 31 - 1, outH: 2 ** 31 - 1 })),
  avgPool2dBackward: () => addon.avgPool2dBackward(F(16), F(16), pool({ n: 2 ** 31 - 1, c: 2 ** 31 - 1, h: 2 ** 31 - 1, outH: 2 ** 31 - 1 })),
  tensorStats: () => addon.tensorStats(new Float64Array(8), null, null, F(16), 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, 0, 1, 0),
  globalAvgPoolForward: () => addon.globalAvgPoolForward(F(16), F(16), 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1),
};
for (const [name, call] of Object.entries(calls)) {
  let out;
  try {
    call();
    out = { name, threw: null };
  } catch (e) {
    out = { name, threw: e && e.constructor ? e.constructor.name : typeof e, message: String(e && e.message) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
