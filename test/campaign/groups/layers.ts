import { type Case, type ErrorKind, optionCases, BAD_POSITIVE_INT, BAD_BOOL, BAD_NONNEG, BAD_FRACTION } from '../case';
import { mb, F, detached } from '../fixtures';

type Bad = readonly (readonly [unknown, ErrorKind])[];
const BAD_NAME: Bad = [[42, 'TypeError'], [{}, 'TypeError'], [null, 'TypeError']];
const BAD_BACKEND: Bad = [[{}, 'TypeError'], ['gpu', 'TypeError'], [5, 'TypeError']];
const BAD_INIT: Bad = [['kaiming', 'TypeError'], [5, 'TypeError'], [{ fill: 1 }, 'TypeError']];
const BAD_PAIR: Bad = [[0, 'RangeError'], [[1, 0], 'RangeError'], [[1, 2, 3], 'TypeError'], ['3', 'TypeError'], [1.5, 'RangeError']];
const BAD_EPS: Bad = [[0, 'RangeError'], [-1e-5, 'RangeError'], [NaN, 'RangeError'], ['1e-5', 'TypeError']];

/** Every option of a constructor spoiled in turn, the other options valid. */
function spoil(label: string, ctor: (a: Record<string, unknown>) => unknown, base: Record<string, unknown>, options: Record<string, Bad>): Case[] {
  return Object.entries(options).flatMap(([opt, bad]) => optionCases(label, (v) => ctor({ ...base, [opt]: v }), opt, bad, `for ${opt}`));
}

const A = (a: Record<string, unknown>) => a as never;

const ctorCases: Case[] = [
  ...spoil('Linear', (a) => new mb.Linear(A(a)), { inFeatures: 4, outFeatures: 2 }, {
    inFeatures: BAD_POSITIVE_INT, outFeatures: BAD_POSITIVE_INT, bias: BAD_BOOL, weightInit: BAD_INIT, biasInit: BAD_INIT, name: BAD_NAME, backend: BAD_BACKEND,
  }),
  ...spoil('Conv2d', (a) => new mb.Conv2d(A(a)), { inChannels: 1, outChannels: 2, kernelSize: 3 }, {
    inChannels: BAD_POSITIVE_INT.slice(0, 5), outChannels: BAD_POSITIVE_INT.slice(0, 5), kernelSize: BAD_PAIR, stride: BAD_PAIR,
    padding: [[-1, 'RangeError'], ['1', 'TypeError'], [[0, 0, 0], 'TypeError']], dilation: BAD_PAIR.slice(0, 3), bias: BAD_BOOL, name: BAD_NAME,
  }),
  ...spoil('MaxPool2d', (a) => new mb.MaxPool2d(A(a)), { kernelSize: 2 }, { kernelSize: BAD_PAIR, stride: BAD_PAIR.slice(0, 3), padding: [[-1, 'RangeError']], name: BAD_NAME }),
  ...spoil('AvgPool2d', (a) => new mb.AvgPool2d(A(a)), { kernelSize: 2 }, { kernelSize: BAD_PAIR.slice(0, 3), name: BAD_NAME }),
  ...spoil('LeakyReLU', (a) => new mb.LeakyReLU(A(a)), {}, { alpha: [[NaN, 'RangeError'], ['0.1', 'TypeError']], name: BAD_NAME }),
  ...spoil('ELU', (a) => new mb.ELU(A(a)), {}, { alpha: [[NaN, 'RangeError'], ['1', 'TypeError'], [Infinity, 'RangeError']] }),
  ...spoil('ReLU', (a) => new mb.ReLU(A(a)), {}, { name: BAD_NAME, backend: BAD_BACKEND }),
  ...spoil('Sigmoid', (a) => new mb.Sigmoid(A(a)), {}, { name: BAD_NAME.slice(0, 1) }),
  ...spoil('Tanh', (a) => new mb.Tanh(A(a)), {}, { name: BAD_NAME.slice(0, 1) }),
  ...spoil('Flatten', (a) => new mb.Flatten(A(a)), {}, { name: BAD_NAME.slice(0, 1) }),
  ...spoil('Dropout', (a) => new mb.Dropout(A(a)), {}, { p: BAD_FRACTION, name: BAD_NAME.slice(0, 1) }),
  ...spoil('Maxout', (a) => new mb.Maxout(A(a)), { inFeatures: 4, outFeatures: 2, pieces: 2 }, { inFeatures: BAD_POSITIVE_INT.slice(0, 4), pieces: BAD_POSITIVE_INT.slice(0, 4) }),
  ...spoil('BatchNorm1d', (a) => new mb.BatchNorm1d(A(a)), { numFeatures: 4 }, {
    numFeatures: BAD_POSITIVE_INT.slice(0, 6), eps: BAD_EPS, momentum: [[-0.1, 'RangeError'], [1.5, 'RangeError'], ['0.1', 'TypeError']], affine: BAD_BOOL, trackRunningStats: BAD_BOOL,
  }),
  ...spoil('BatchNorm2d', (a) => new mb.BatchNorm2d(A(a)), { numFeatures: 4 }, { numFeatures: BAD_POSITIVE_INT.slice(0, 3), eps: BAD_EPS.slice(0, 2), name: BAD_NAME.slice(0, 1) }),
  ...spoil('LayerNorm', (a) => new mb.LayerNorm(A(a)), { normalizedShape: 4 }, {
    normalizedShape: [[0, 'RangeError'], [[], 'TypeError'], [[2, -1], 'RangeError'], ['4', 'TypeError']], eps: BAD_EPS.slice(0, 3), elementwiseAffine: BAD_BOOL,
  }),
  ...spoil('GroupNorm', (a) => new mb.GroupNorm(A(a)), { numGroups: 2, numChannels: 4 }, {
    numGroups: [[0, 'RangeError'], [3, 'RangeError'], ['2', 'TypeError']], numChannels: BAD_POSITIVE_INT.slice(0, 3), affine: BAD_BOOL.slice(0, 1),
  }),
  ...spoil('InstanceNorm2d', (a) => new mb.InstanceNorm2d(A(a)), { numFeatures: 4 }, { numFeatures: BAD_POSITIVE_INT.slice(0, 3), affine: BAD_BOOL.slice(0, 1), trackRunningStats: BAD_BOOL.slice(0, 1) }),
  { name: 'Linear without options', run: () => new mb.Linear(undefined as never), error: 'TypeError', names: 'for Linear' },
  { name: 'Linear(null)', run: () => new mb.Linear(null as never), error: 'TypeError' },
  { name: 'Linear option typo', run: () => new mb.Linear(A({ inFeatures: 4, outFeature: 2 })), error: 'TypeError', names: 'outFeatures' },
  { name: 'Conv2d option typo', run: () => new mb.Conv2d(A({ inChannels: 1, outChannels: 2, kernel: 3 })), error: 'TypeError' },
  { name: 'ReLU option typo', run: () => new mb.ReLU(A({ nmae: 'x' })), error: 'TypeError' },
  { name: 'ReLU(5)', run: () => new mb.ReLU(5 as never), error: 'TypeError' },
  { name: 'Dropout option typo', run: () => new mb.Dropout(A({ rate: 0.5 })), error: 'TypeError' },
  { name: 'BatchNorm1d option typo', run: () => new mb.BatchNorm1d(A({ numFeatures: 4, eps2: 1 })), error: 'TypeError' },
];

/** Built layers fed wrong inputs and gradients. */
const lin = () => new mb.Linear({ inFeatures: 4, outFeatures: 2 });
const conv = () => new mb.Conv2d({ inChannels: 1, outChannels: 2, kernelSize: 3 });
const useCases: Case[] = [
  { name: 'Linear.forward(wrong features)', run: () => lin().forward({ data: F(6), shape: [2, 3] }), error: 'RangeError' },
  { name: 'Linear.forward(null)', run: () => lin().forward(null as never), error: 'TypeError' },
  { name: "Linear.forward('x')", run: () => lin().forward('x' as never), error: 'TypeError' },
  { name: 'Linear.forward(detached)', run: () => lin().forward({ data: detached(8), shape: [2, 4] }), error: 'RangeError' },
  { name: 'Linear.forward(shape [-2, -2])', run: () => lin().forward({ data: F(4), shape: [-2, -2] }), error: 'RangeError' },
  {
    name: 'Linear.backward(wrong shape)',
    run: () => {
      const l = lin();
      l.forward({ data: F(8), shape: [2, 4] });
      return l.backward({ data: F(6), shape: [2, 3] });
    },
    error: 'RangeError',
  },
  {
    name: 'Linear.backward(null)',
    run: () => {
      const l = lin();
      l.forward({ data: F(8), shape: [2, 4] });
      return l.backward(null as never);
    },
    error: 'TypeError',
  },
  { name: 'Linear.forward(fractional batch size)', run: () => lin().forward({ data: F(10), shape: [2.5, 4] }), error: 'RangeError', names: '.shape[0]' },
  { name: 'Linear.forward(string batch size)', run: () => lin().forward({ data: F(8), shape: ['2', 4] } as never), error: 'TypeError', names: '.shape[0]' },
  { name: 'Linear.forward(empty batch)', run: () => lin().forward({ data: F(0), shape: [0, 4] }), error: 'RangeError', names: '.shape[0]' },
  { name: 'Conv2d.forward(empty batch)', run: () => conv().forward({ data: F(0), shape: [0, 1, 5, 5] }), error: 'RangeError', names: '.shape[0]' },
  { name: 'BatchNorm1d.forward(fractional batch size)', run: () => new mb.BatchNorm1d({ numFeatures: 4 }).forward({ data: F(6), shape: [1.5, 4] }), error: 'RangeError', names: '.shape[0]' },
  { name: 'Conv2d.forward(3-D input)', run: () => conv().forward({ data: F(25), shape: [1, 5, 5] }), error: 'RangeError' },
  { name: 'Conv2d.forward(too small for the kernel)', run: () => conv().forward({ data: F(4), shape: [1, 1, 2, 2] }), error: 'RangeError' },
  { name: 'Conv2d.forward(wrong channels)', run: () => conv().forward({ data: F(50), shape: [1, 2, 5, 5] }), error: 'RangeError' },
  { name: 'MaxPool2d.forward(2-D input)', run: () => new mb.MaxPool2d({ kernelSize: 2 }).forward({ data: F(8), shape: [2, 4] }), error: 'RangeError' },
  { name: 'BatchNorm1d.forward(wrong features)', run: () => new mb.BatchNorm1d({ numFeatures: 4 }).forward({ data: F(6), shape: [2, 3] }), error: 'RangeError' },
  { name: 'BatchNorm1d.forward(one row in training)', run: () => new mb.BatchNorm1d({ numFeatures: 4 }).forward({ data: F(4), shape: [1, 4] }), error: 'RangeError' },
  { name: 'BatchNorm2d.forward(2-D input)', run: () => new mb.BatchNorm2d({ numFeatures: 4 }).forward({ data: F(8), shape: [2, 4] }), error: 'RangeError' },
  { name: 'GroupNorm.forward(wrong channels)', run: () => new mb.GroupNorm({ numGroups: 2, numChannels: 4 }).forward({ data: F(12), shape: [2, 6] }), error: 'RangeError' },
  { name: 'LayerNorm.forward(wrong last dim)', run: () => new mb.LayerNorm({ normalizedShape: 4 }).forward({ data: F(6), shape: [2, 3] }), error: 'RangeError' },
  { name: 'Maxout.forward(wrong features)', run: () => new mb.Maxout({ inFeatures: 4, outFeatures: 2, pieces: 2 }).forward({ data: F(6), shape: [2, 3] }), error: 'RangeError' },
  { name: 'Linear.build(null)', run: () => lin().build(null as never), error: 'TypeError' },
  { name: "Linear.build(['4'])", run: () => lin().build(['4'] as never), error: 'TypeError' },
  { name: 'Linear.build([3]) (inFeatures 4)', run: () => lin().build([3]), error: 'RangeError' },
  { name: 'Linear.build([4, -1])', run: () => lin().build([4, -1]), error: 'RangeError' },
  { name: "Linear.train('no')", run: () => lin().train('no' as never), error: 'TypeError' },
];

export default [...ctorCases, ...useCases];
