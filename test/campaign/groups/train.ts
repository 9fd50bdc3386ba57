import { type Case, type ErrorKind, optionCases, BAD_POSITIVE_INT, BAD_BOOL } from '../case';
import { mb, F, mlp, data, fitArgs, detached, detachedLabels } from '../fixtures';

type Bad = readonly (readonly [unknown, ErrorKind])[];
/** fit with one option spoiled. */
function fitWith(opt: string, bad: Bad, names = `for ${opt}`): Case[] {
  return optionCases('fit', (v) => {
    const a = fitArgs();
    return mb.fit(a.model, a.x, a.y, { ...a.opts, [opt]: v } as never);
  }, opt, bad, names);
}

const evalOpts = () => ({ loss: new mb.CrossEntropyLoss() });
const cb = (c: object) => {
  const a = fitArgs();
  return mb.fit(a.model, a.x, a.y, { ...a.opts, callbacks: c as never });
};

const cases: Case[] = [
  ...fitWith('epochs', BAD_POSITIVE_INT),
  ...fitWith('batchSize', [...BAD_POSITIVE_INT, [9, 'RangeError']]),
  ...fitWith('shuffle', BAD_BOOL),
  ...fitWith('dropLast', BAD_BOOL),
  ...fitWith('seed', [[-1, 'RangeError'], [1.5, 'RangeError'], ['0', 'TypeError']]),
  ...fitWith('verbose', [[3, 'RangeError'], ['1', 'RangeError'], [true, 'RangeError']]),
  ...fitWith('validationSplit', [[1, 'RangeError'], [-0.1, 'RangeError'], [NaN, 'RangeError'], ['0.1', 'TypeError'], [0.01, 'RangeError']]),
  ...fitWith('validationData', [[5, 'TypeError'], [[1], 'TypeError'], [[null, null], 'TypeError']], 'for validation'),
  ...fitWith('loss', [[undefined, 'TypeError'], [null, 'TypeError'], [{}, 'TypeError'], ['mse', 'TypeError'], [{ forward: 1, backward: 2 }, 'TypeError']]),
  ...fitWith('optimizer', [[undefined, 'TypeError'], [null, 'TypeError'], [{ step: () => {} }, 'TypeError'], ['sgd', 'TypeError']]),
  ...fitWith('metrics', [['accuracy', 'TypeError'], [['acc'], 'RangeError'], [[5], 'RangeError'], [{}, 'TypeError']], 'for metrics'),
  ...fitWith('callbacks', [[5, 'TypeError'], ['x', 'TypeError'], [{}, 'TypeError'], [[5], 'TypeError'], [[null], 'TypeError'], [[{ onEpochEnd: 'x' }], 'TypeError'], [[{ onBatchEnd: 5 }], 'TypeError'], [[{ onTrainBegin: {} }], 'TypeError']], 'for callbacks'),
  ...fitWith('output', [[5, 'TypeError'], ['stdout', 'TypeError'], [{}, 'TypeError'], [null, 'TypeError']]),
  { name: 'fit option typo batch_size', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, a.y, { ...a.opts, batch_size: 4 } as never); }, error: 'TypeError', names: "'batchSize'" },
  { name: 'fit without options', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, a.y, undefined as never); }, error: 'TypeError', names: 'fit' },
  { name: 'fit(options 5)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, a.y, 5 as never); }, error: 'TypeError', names: 'fit' },
  { name: 'fit(null model)', run: () => { const a = fitArgs(); return mb.fit(null as never, a.x, a.y, a.opts); }, error: 'TypeError', names: 'for model' },
  { name: 'fit(a layer as model)', run: () => { const a = fitArgs(); return mb.fit(new mb.ReLU() as never, a.x, a.y, a.opts); }, error: 'TypeError', names: 'for model' },
  { name: 'fit(null x)', run: () => { const a = fitArgs(); return mb.fit(a.model, null as never, a.y, a.opts); }, error: 'TypeError', names: 'for x' },
  { name: 'fit(x wrong features)', run: () => { const a = fitArgs(); return mb.fit(a.model, { data: F(24), shape: [8, 3] }, a.y, a.opts); }, error: 'RangeError', names: 'for x' },
  { name: 'fit(x NaN)', run: () => { const a = fitArgs(); a.x.data[5] = NaN; return mb.fit(a.model, a.x, a.y, a.opts); }, error: 'RangeError', names: 'for x (row 1, index 1)' },
  { name: 'fit(x 1-D)', run: () => { const a = fitArgs(); return mb.fit(a.model, F(32), a.y, a.opts); }, error: 'RangeError', names: 'for x' },
  { name: 'fit(x shape [-8, -4])', run: () => { const a = fitArgs(); return mb.fit(a.model, { data: F(32), shape: [-8, -4] }, a.y, a.opts); }, error: 'RangeError', names: 'for x' },
  { name: 'fit(x empty batch)', run: () => { const a = fitArgs(); return mb.fit(a.model, { data: F(0), shape: [0, 4] }, new Int32Array(0), a.opts); }, error: 'RangeError', names: 'for x' },
  { name: 'fit(y too short)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, a.y.subarray(0, 5), a.opts); }, error: 'RangeError', names: 'for y' },
  { name: 'fit(y label out of range)', run: () => { const a = fitArgs(); a.y[3] = 7; return mb.fit(a.model, a.x, a.y, a.opts); }, error: 'RangeError', names: 'for y[3]' },
  { name: 'fit(y fractional label)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, [0, 1, 2, 0.5, 1, 2, 0, 1], a.opts); }, error: 'RangeError', names: 'for y[3]' },
  { name: 'fit(y null)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, null as never, a.opts); }, error: 'TypeError', names: 'for y' },
  { name: "fit(y 'abc')", run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, 'abc' as never, a.opts); }, error: 'TypeError', names: 'for y' },
  { name: 'fit(y Float32Array for class labels)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, new Float32Array(8) as never, a.opts); }, error: 'RangeError', names: 'for y' },
  { name: 'fit(y Float64Array)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, new Float64Array(8) as never, a.opts); }, error: 'TypeError', names: 'for y' },
  { name: 'fit(y detached)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, detachedLabels(8), a.opts); }, error: 'RangeError', names: 'for y' },
  { name: 'fit(target rows of the wrong width for CrossEntropyLoss)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, { data: F(16), shape: [8, 2] }, a.opts); }, error: 'RangeError', names: 'for y' },
  { name: 'fit(labels with MSELoss)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, a.y, { ...a.opts, loss: new mb.MSELoss() }); }, error: 'TypeError', names: 'for y' },
  { name: 'fit(accuracy on regression targets)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, { data: F(24), shape: [8, 3] }, { ...a.opts, loss: new mb.MSELoss(), metrics: ['accuracy'] }); }, error: 'RangeError', names: 'for y' },
  { name: 'fit(an optimizer over another model)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, a.y, { ...a.opts, optimizer: new mb.SGD(mlp().parameters(), { lr: 0.1 }) }); }, error: 'RangeError', names: 'for optimizer' },
  { name: 'fit(validationData wrong features)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, a.y, { ...a.opts, validationData: [{ data: F(6), shape: [2, 3] }, [0, 1]] }); }, error: 'RangeError', names: 'for validationData x' },
  { name: 'fit(validationData labels short)', run: () => { const a = fitArgs(); return mb.fit(a.model, a.x, a.y, { ...a.opts, validationData: [{ data: F(8), shape: [2, 4] }, [0]] }); }, error: 'RangeError', names: 'for validationData y' },
  { name: 'fit(batch of 1 with BatchNorm)', run: () => { const m = new mb.Sequential([new mb.Linear({ inFeatures: 4, outFeatures: 3 }), new mb.BatchNorm1d({ numFeatures: 3 })], { inputShape: [4] }); const { x, y } = data(); return mb.fit(m, x, y, { loss: new mb.CrossEntropyLoss(), optimizer: new mb.SGD(m.parameters(), { lr: 0.1 }), batchSize: 1, verbose: 0 }); }, error: 'RangeError' },
  { name: 'EarlyStopping(null model)', run: () => new mb.EarlyStopping(null as never), error: 'TypeError', names: 'for model' },
  { name: 'EarlyStopping(patience -1)', run: () => new mb.EarlyStopping(mlp(), { patience: -1 }), error: 'RangeError', names: 'for patience' },
  { name: "EarlyStopping(mode 'up')", run: () => new mb.EarlyStopping(mlp(), { mode: 'up' as never }), error: 'RangeError', names: 'for mode' },
  { name: 'EarlyStopping(monitor 5)', run: () => new mb.EarlyStopping(mlp(), { monitor: 5 as never }), error: 'TypeError', names: 'for monitor' },
  { name: 'EarlyStopping(minDelta -1)', run: () => new mb.EarlyStopping(mlp(), { minDelta: -1 }), error: 'RangeError', names: 'for minDelta' },
  { name: "EarlyStopping(restoreBestWeights 'yes')", run: () => new mb.EarlyStopping(mlp(), { restoreBestWeights: 'yes' as never }), error: 'TypeError', names: 'for restoreBestWeights' },
  { name: 'EarlyStopping option typo', run: () => new mb.EarlyStopping(mlp(), { patients: 3 } as never), error: 'TypeError', names: "'patience'" },
  { name: 'fit(EarlyStopping monitoring an unlogged quantity)', run: () => cb([new mb.EarlyStopping(fitArgs().model, { monitor: 'valAccuracy' })]), error: 'RangeError', names: 'for EarlyStopping monitor' },
  // evaluate
  { name: 'evaluate without options', run: () => mb.evaluate(mlp(), data().x, data().y, undefined as never), error: 'TypeError', names: 'for evaluate options' },
  { name: 'evaluate without loss', run: () => mb.evaluate(mlp(), data().x, data().y, {} as never), error: 'TypeError', names: 'for loss' },
  { name: "evaluate(loss 'ce')", run: () => mb.evaluate(mlp(), data().x, data().y, { loss: 'ce' as never }), error: 'TypeError', names: 'for loss' },
  { name: 'evaluate(null model)', run: () => mb.evaluate(null as never, data().x, data().y, evalOpts()), error: 'TypeError', names: 'for model' },
  { name: "evaluate(metrics ['acc'])", run: () => mb.evaluate(mlp(), data().x, data().y, { ...evalOpts(), metrics: ['acc' as never] }), error: 'RangeError', names: 'for metrics[0]' },
  { name: "evaluate(metrics 'accuracy')", run: () => mb.evaluate(mlp(), data().x, data().y, { ...evalOpts(), metrics: 'accuracy' as never }), error: 'TypeError', names: 'for metrics' },
  { name: 'evaluate(accuracy on regression targets)', run: () => mb.evaluate(mlp(), data().x, { data: F(24), shape: [8, 3] }, { loss: new mb.MSELoss(), metrics: ['accuracy'] }), error: 'RangeError', names: 'for y' },
  ...optionCases('evaluate', (v) => mb.evaluate(mlp(), data().x, data().y, { ...evalOpts(), batchSize: v as number }), 'batchSize', BAD_POSITIVE_INT.slice(0, 6), 'for batchSize'),
  { name: 'evaluate(options typo)', run: () => mb.evaluate(mlp(), data().x, data().y, { ...evalOpts(), batch: 4 } as never), error: 'TypeError', names: 'evaluate' },
  { name: 'evaluate(x wrong features)', run: () => mb.evaluate(mlp(), { data: F(6), shape: [2, 3] }, [0, 1], evalOpts()), error: 'RangeError', names: 'for x' },
  { name: 'evaluate(x NaN)', run: () => mb.evaluate(mlp(), { data: F(8, NaN), shape: [2, 4] }, [0, 1], evalOpts()), error: 'RangeError', names: 'for x' },
  { name: 'evaluate(y label out of range)', run: () => mb.evaluate(mlp(), { data: F(8), shape: [2, 4] }, [0, 3], evalOpts()), error: 'RangeError', names: 'for y[1]' },
  { name: 'evaluate(y wrong length)', run: () => mb.evaluate(mlp(), { data: F(8), shape: [2, 4] }, [0], evalOpts()), error: 'RangeError', names: 'for y' },
  { name: 'evaluate(unbuilt model)', run: () => mb.evaluate(new mb.Sequential([new mb.Linear({ inFeatures: 4, outFeatures: 3 })]), data().x, data().y, evalOpts()), error: 'RangeError', names: 'for model' },
  // predict
  { name: 'predict(null model)', run: () => mb.predict(null as never, data().x), error: 'TypeError', names: 'for model' },
  { name: 'predict(undefined model)', run: () => mb.predict(undefined as never, data().x), error: 'TypeError', names: 'for model' },
  { name: 'predict(null x)', run: () => mb.predict(mlp(), null as never), error: 'TypeError', names: 'for x' },
  { name: 'predict(x wrong features)', run: () => mb.predict(mlp(), { data: F(6), shape: [2, 3] }), error: 'RangeError', names: 'for x' },
  { name: 'predict(x NaN)', run: () => mb.predict(mlp(), { data: F(8, NaN), shape: [2, 4] }), error: 'RangeError', names: 'for x' },
  { name: 'predict(x 1-D)', run: () => mb.predict(mlp(), F(4)), error: 'RangeError', names: 'for x' },
  { name: 'predict(x empty batch)', run: () => mb.predict(mlp(), { data: F(0), shape: [0, 4] }), error: 'RangeError', names: 'for x' },
  ...optionCases('predict', (v) => mb.predict(mlp(), data().x, { batchSize: v as number }), 'batchSize', BAD_POSITIVE_INT.slice(0, 6), 'for batchSize'),
  { name: 'predict(options typo)', run: () => mb.predict(mlp(), data().x, { batch_size: 4 } as never), error: 'TypeError', names: "'batchSize'" },
  { name: 'predict(options 5)', run: () => mb.predict(mlp(), data().x, 5 as never), error: 'TypeError', names: 'predict' },
  { name: "predict({ checkFinite: 'no' })", run: () => mb.predict(mlp(), data().x, { checkFinite: 'no' } as never), error: 'TypeError', names: 'for checkFinite' },
];
export default cases;
