import { type Case, optionCases, BAD_FRACTION, BAD_NONNEG } from '../case';
import { mb, F, detached, detachedLabels } from '../fixtures';

const X = () => ({ data: F(6, 0.5), shape: [2, 3] });
const classLosses: [string, () => mb.Loss<mb.Labels>][] = [
  ['CrossEntropyLoss', () => new mb.CrossEntropyLoss()],
  ['MultiMarginLoss', () => new mb.MultiMarginLoss()],
];
const valueLosses: [string, () => mb.Loss<mb.Tensor | mb.NestedArray>][] = [
  ['MSELoss', () => new mb.MSELoss()],
  ['BCEWithLogitsLoss', () => new mb.BCEWithLogitsLoss()],
];

const cases: Case[] = [
  ...optionCases('CrossEntropyLoss', (v) => new mb.CrossEntropyLoss({ labelSmoothing: v as number }), 'labelSmoothing', BAD_FRACTION, 'for labelSmoothing'),
  ...optionCases('CrossEntropyLoss', (v) => new mb.CrossEntropyLoss({ backend: v as never }), 'backend', [[{}, 'TypeError'], ['gpu', 'TypeError']], 'for backend'),
  ...optionCases('MultiMarginLoss', (v) => new mb.MultiMarginLoss({ margin: v as number }), 'margin', BAD_NONNEG.slice(1), 'for margin'),
  ...optionCases('MultiMarginLoss', (v) => new mb.MultiMarginLoss({ p: v as 1 }), 'p', [[3, 'RangeError'], ['1', 'TypeError'], [0, 'RangeError']], 'for p'),
  { name: 'MSELoss option typo', run: () => new mb.MSELoss({ reduction: 'sum' } as never), error: 'TypeError', names: 'MSELoss' },
  { name: 'BCEWithLogitsLoss option typo', run: () => new mb.BCEWithLogitsLoss({ posWeight: 2 } as never), error: 'TypeError', names: 'BCEWithLogitsLoss' },
  { name: 'CrossEntropyLoss option typo', run: () => new mb.CrossEntropyLoss({ smoothing: 0.1 } as never), error: 'TypeError', names: 'labelSmoothing' },
  { name: 'CrossEntropyLoss(5)', run: () => new mb.CrossEntropyLoss(5 as never), error: 'TypeError' },
  ...classLosses.flatMap(([n, make]): Case[] => [
    { name: `${n}.forward(1-D input)`, run: () => make().forward({ data: F(3), shape: [3] }, [0, 1, 2]), error: 'RangeError', names: 'for input' },
    { name: `${n}.forward(null input)`, run: () => make().forward(null as never, [0, 1]), error: 'TypeError', names: 'for input' },
    { name: `${n}.forward(NaN input)`, run: () => make().forward({ data: F(6, NaN), shape: [2, 3] }, [0, 1]), error: 'RangeError', names: 'for input' },
    { name: `${n}.forward(label out of range)`, run: () => make().forward(X(), [0, 3]), error: 'RangeError', names: 'for target[1]' },
    { name: `${n}.forward(negative label)`, run: () => make().forward(X(), new Int32Array([0, -1])), error: 'RangeError', names: 'for target[1]' },
    { name: `${n}.forward(fractional label)`, run: () => make().forward(X(), [0, 1.5]), error: 'TypeError', names: 'for target[1]' },
    { name: `${n}.forward(too few labels)`, run: () => make().forward(X(), [0]), error: 'RangeError', names: 'for target' },
    { name: `${n}.forward(Float32Array labels)`, run: () => make().forward(X(), new Float32Array(2) as never), error: 'TypeError', names: 'for target' },
    { name: `${n}.forward(string labels)`, run: () => make().forward(X(), 'ab' as never), error: 'TypeError', names: 'for target' },
    { name: `${n}.forward(detached labels)`, run: () => make().forward(X(), detachedLabels(2)), error: 'RangeError', names: 'for target' },
  ]),
  ...valueLosses.flatMap(([n, make]): Case[] => [
    { name: `${n}.forward(shape mismatch)`, run: () => make().forward(X(), { data: F(4), shape: [2, 2] }), error: 'RangeError', names: 'for target' },
    { name: `${n}.forward(null target)`, run: () => make().forward(X(), null as never), error: 'TypeError', names: 'for target' },
    { name: `${n}.forward(labels as target)`, run: () => make().forward(X(), new Int32Array(2) as never), error: 'TypeError', names: 'for target' },
    { name: `${n}.forward(NaN target)`, run: () => make().forward(X(), { data: F(6, NaN), shape: [2, 3] }), error: 'RangeError', names: 'for target' },
    { name: `${n}.forward(Infinity input)`, run: () => make().forward({ data: F(6, Infinity), shape: [2, 3] }, { data: F(6), shape: [2, 3] }), error: 'RangeError', names: 'for input' },
    { name: `${n}.forward(undefined input)`, run: () => make().forward(undefined as never, X()), error: 'TypeError', names: 'for input' },
  ]),
];
export default cases;
