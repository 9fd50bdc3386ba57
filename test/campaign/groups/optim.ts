import { type Case, type ErrorKind, optionCases, BAD_NONNEG, BAD_POSITIVE_INT, BAD_BOOL } from '../case';
import { mb, mlp } from '../fixtures';

type Bad = readonly (readonly [unknown, ErrorKind])[];
const P = () => mlp().parameters();
const BAD_BETAS: Bad = [[[0.9], 'TypeError'], [[0.9, 1], 'RangeError'], [[-0.1, 0.9], 'RangeError'], ['0.9', 'TypeError'], [[0.9, '0.99'], 'TypeError']];
const BAD_EPS: Bad = [[0, 'RangeError'], [-1, 'RangeError'], [NaN, 'RangeError'], ['1e-8', 'TypeError']];

function spoil(label: string, ctor: (o: Record<string, unknown>) => unknown, base: Record<string, unknown>, options: Record<string, Bad>): Case[] {
  return Object.entries(options).flatMap(([opt, bad]) => optionCases(label, (v) => ctor({ ...base, [opt]: v }), opt, bad, `for ${opt}`));
}
const sgd = () => new mb.SGD(P(), { lr: 0.1 });
const adam = () => new mb.Adam(P());

const cases: Case[] = [
  ...spoil('SGD', (o) => new mb.SGD(P(), o as never), { lr: 0.1 }, { lr: BAD_NONNEG, momentum: BAD_NONNEG.slice(0, 3), dampening: [[1.5, 'RangeError'], [-1, 'RangeError']], nesterov: BAD_BOOL, weightDecay: BAD_NONNEG.slice(0, 3), backend: [[{}, 'TypeError'], ['gpu', 'TypeError']] }),
  ...spoil('Adam', (o) => new mb.Adam(P(), o as never), {}, { lr: BAD_NONNEG.slice(0, 4), betas: BAD_BETAS, eps: BAD_EPS, weightDecay: BAD_NONNEG.slice(0, 2) }),
  ...spoil('AdamW', (o) => new mb.AdamW(P(), o as never), {}, { lr: BAD_NONNEG.slice(0, 2), betas: BAD_BETAS.slice(0, 2), weightDecay: BAD_NONNEG.slice(0, 2) }),
  ...spoil('RMSProp', (o) => new mb.RMSProp(P(), o as never), {}, { lr: BAD_NONNEG.slice(0, 2), alpha: [[1.5, 'RangeError'], [-0.1, 'RangeError'], ['0.99', 'TypeError']], eps: BAD_EPS.slice(0, 2), momentum: BAD_NONNEG.slice(0, 2) }),
  { name: "Adam({ amsgrad: 'yes' })", run: () => new mb.Adam(P(), { amsgrad: 'yes' } as never), error: 'TypeError', names: 'for amsgrad' },
  { name: "RMSProp({ centered: 'yes' })", run: () => new mb.RMSProp(P(), { centered: 'yes' } as never), error: 'TypeError', names: 'for centered' },
  { name: 'SGD without lr', run: () => new mb.SGD(P(), {} as never), error: 'TypeError', names: 'for lr' },
  { name: 'SGD without options', run: () => new mb.SGD(P(), undefined as never), error: 'TypeError', names: 'for lr' },
  { name: 'SGD learningRate alias', run: () => new mb.SGD(P(), { learningRate: 0.1 } as never), error: 'TypeError', names: "'lr'" },
  { name: 'SGD nesterov without momentum', run: () => new mb.SGD(P(), { lr: 0.1, nesterov: true }), error: 'RangeError', names: 'for nesterov' },
  { name: 'SGD(null params)', run: () => new mb.SGD(null as never, { lr: 0.1 }), error: 'TypeError', names: 'for params' },
  { name: 'SGD(a model)', run: () => new mb.SGD(mlp() as never, { lr: 0.1 }), error: 'TypeError', names: 'for params' },
  { name: 'SGD([] params)', run: () => new mb.SGD([], { lr: 0.1 }), error: 'RangeError', names: 'for params' },
  { name: 'SGD(arena with short grad)', run: () => new mb.SGD({ data: new Float32Array(4), grad: new Float32Array(3), views: [] }, { lr: 0.1 }), error: 'RangeError', names: 'for params.grad' },
  { name: 'SGD(arena with Float64 data)', run: () => new mb.SGD({ data: new Float64Array(4), grad: new Float32Array(4), views: [] } as never, { lr: 0.1 }), error: 'TypeError', names: 'for params.data' },
  { name: 'Adam(5 params)', run: () => new mb.Adam(5 as never), error: 'TypeError', names: 'for params' },
  { name: 'optimizer.lr = -1', run: () => { sgd().lr = -1; }, error: 'RangeError', names: 'for lr' },
  { name: "optimizer.lr = '0.1'", run: () => { sgd().lr = '0.1' as never; }, error: 'TypeError', names: 'for lr' },
  { name: 'SGD.loadStateDict(null)', run: () => sgd().loadStateDict(null as never), error: 'TypeError', names: 'for stateDict' },
  { name: 'SGD.loadStateDict(Adam state)', run: () => sgd().loadStateDict(adam().stateDict()), error: 'RangeError', names: 'for stateDict.kind' },
  { name: 'SGD.loadStateDict(step -1)', run: () => { const o = sgd(); o.loadStateDict({ ...o.stateDict(), step: -1 }); }, error: 'RangeError', names: 'for stateDict.step' },
  { name: 'SGD.loadStateDict(lr NaN)', run: () => { const o = sgd(); const s = o.stateDict(); o.loadStateDict({ ...s, options: { ...s.options, lr: NaN } }); }, error: 'RangeError', names: 'for stateDict.options.lr' },
  { name: 'SGD.loadStateDict(state not an array)', run: () => { const o = sgd(); o.loadStateDict({ ...o.stateDict(), state: 5 as never }); }, error: 'RangeError', names: 'for stateDict.state' },
  {
    name: 'Adam.loadStateDict(NaN moment)',
    run: () => {
      const o = adam();
      const s = o.stateDict();
      const n = o.params[0].data.length;
      o.loadStateDict({ ...s, state: [{ ...s.state[0], m: new Array(n).fill(NaN), v: new Array(n).fill(0) }] });
    },
    error: 'RangeError',
    names: 'for stateDict.state[0].m[0]',
  },
  {
    name: 'Adam.loadStateDict(negative second moment)',
    run: () => {
      const o = adam();
      const s = o.stateDict();
      const n = o.params[0].data.length;
      o.loadStateDict({ ...s, state: [{ ...s.state[0], m: new Array(n).fill(0), v: new Array(n).fill(-1) }] });
    },
    error: 'RangeError',
    names: 'for stateDict.state[0].v[0]',
  },
  {
    name: 'Adam.loadStateDict(short moment)',
    run: () => {
      const o = adam();
      const s = o.stateDict();
      o.loadStateDict({ ...s, state: [{ ...s.state[0], m: [0], v: [0] }] });
    },
    error: 'RangeError',
    names: 'for stateDict.state[0].m',
  },
  { name: 'clipGradNorm(null)', run: () => mb.clipGradNorm(null as never, 1), error: 'TypeError', names: 'for params' },
  { name: 'clipGradNorm(maxNorm -1)', run: () => mb.clipGradNorm(P(), -1), error: 'RangeError', names: 'for maxNorm' },
  { name: "clipGradNorm(maxNorm '1')", run: () => mb.clipGradNorm(P(), '1' as never), error: 'TypeError', names: 'for maxNorm' },
  { name: 'clipGradNorm(normType 0)', run: () => mb.clipGradNorm(P(), 1, 0), error: 'RangeError', names: 'for normType' },
  { name: "clipGradNorm(normType 'inf')", run: () => mb.clipGradNorm(P(), 1, 'inf' as never), error: 'TypeError', names: 'for normType' },
  { name: 'clipGradValue(clipValue NaN)', run: () => mb.clipGradValue(P(), NaN), error: 'RangeError', names: 'for clipValue' },
  { name: 'clipGradValue(clipValue -1)', run: () => mb.clipGradValue(P(), -1), error: 'RangeError', names: 'for clipValue' },
  // schedules
  ...optionCases('StepLR', (v) => new mb.StepLR(sgd(), { stepSize: v as number }), 'stepSize', BAD_POSITIVE_INT, 'for stepSize'),
  ...optionCases('StepLR', (v) => new mb.StepLR(sgd(), { stepSize: 2, gamma: v as number }), 'gamma', BAD_NONNEG.slice(0, 4), 'for gamma'),
  ...optionCases('ExponentialLR', (v) => new mb.ExponentialLR(sgd(), { gamma: v as number }), 'gamma', BAD_NONNEG, 'for gamma'),
  ...optionCases('CosineAnnealingLR', (v) => new mb.CosineAnnealingLR(sgd(), { tMax: v as number }), 'tMax', BAD_POSITIVE_INT.slice(0, 5), 'for tMax'),
  ...optionCases('CosineAnnealingLR', (v) => new mb.CosineAnnealingLR(sgd(), { tMax: 5, etaMin: v as number }), 'etaMin', BAD_NONNEG.slice(0, 3), 'for etaMin'),
  ...optionCases('LinearWarmup', (v) => new mb.LinearWarmup(sgd(), { warmupSteps: v as number }), 'warmupSteps', BAD_POSITIVE_INT.slice(0, 5), 'for warmupSteps'),
  ...optionCases('LinearWarmup', (v) => new mb.LinearWarmup(sgd(), { warmupSteps: 3, startFactor: v as number }), 'startFactor', [[0, 'RangeError'], [1.5, 'RangeError'], ['0.5', 'TypeError']], 'for startFactor'),
  { name: 'StepLR(null optimizer)', run: () => new mb.StepLR(null as never, { stepSize: 1 }), error: 'TypeError', names: 'for optimizer' },
  { name: 'StepLR(an arena as optimizer)', run: () => new mb.StepLR(P() as never, { stepSize: 1 }), error: 'TypeError', names: 'for optimizer' },
  { name: 'StepLR without options', run: () => new mb.StepLR(sgd(), undefined as never), error: 'TypeError', names: 'for stepSize' },
  { name: 'StepLR option typo step_size', run: () => new mb.StepLR(sgd(), { step_size: 2 } as never), error: 'TypeError', names: "'stepSize'" },
  { name: 'SequentialLR(empty schedulers)', run: () => new mb.SequentialLR(sgd(), { schedulers: [], milestones: [] }), error: 'TypeError', names: 'for schedulers' },
  { name: 'SequentialLR(milestones count)', run: () => { const o = sgd(); return new mb.SequentialLR(o, { schedulers: [new mb.StepLR(o, { stepSize: 1 }), new mb.StepLR(o, { stepSize: 1 })], milestones: [] }); }, error: 'RangeError', names: 'for milestones' },
  { name: 'SequentialLR(schedule of another optimizer)', run: () => { const o = sgd(); return new mb.SequentialLR(o, { schedulers: [new mb.StepLR(sgd(), { stepSize: 1 })], milestones: [] }); }, error: 'RangeError', names: 'for schedulers[0]' },
  { name: 'SequentialLR(schedulers [5])', run: () => new mb.SequentialLR(sgd(), { schedulers: [5 as never], milestones: [] }), error: 'TypeError', names: 'for schedulers[0]' },
  { name: 'SequentialLR(decreasing milestones)', run: () => { const o = sgd(); const s = () => new mb.StepLR(o, { stepSize: 1 }); return new mb.SequentialLR(o, { schedulers: [s(), s(), s()], milestones: [3, 2] }); }, error: 'RangeError', names: 'for milestones[1]' },
  { name: 'StepLR.loadStateDict(null)', run: () => new mb.StepLR(sgd(), { stepSize: 1 }).loadStateDict(null as never), error: 'TypeError', names: 'for stateDict' },
  { name: 'StepLR.loadStateDict(lastEpoch -1)', run: () => new mb.StepLR(sgd(), { stepSize: 1 }).loadStateDict({ lastEpoch: -1 }), error: 'RangeError', names: 'for stateDict.lastEpoch' },
  { name: 'CosineAnnealingLR.lrAt(-1)', run: () => new mb.CosineAnnealingLR(sgd(), { tMax: 5 }).lrAt(-1), error: 'RangeError', names: 'for epoch' },
  { name: "StepLR.lrAt('2')", run: () => new mb.StepLR(sgd(), { stepSize: 1 }).lrAt('2' as never), error: 'TypeError', names: 'for epoch' },
];
export default cases;
