import { type Case } from '../case';
import { mb, F, detached } from '../fixtures';

const X = () => ({ data: Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), shape: [6, 4] });
const IMG = () => ({ data: Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.cos(i)), shape: [2, 3, 2, 2] });
const fitted = {
  StandardScaler: () => new mb.StandardScaler().fit(X()),
  MeanCenter: () => new mb.MeanCenter().fit(X()),
  ChannelNormalizer: () => new mb.ChannelNormalizer().fit(IMG()),
  PCA: () => new mb.PCA({ components: 2 }).fit(X()),
  ZCA: () => new mb.ZCA().fit(X()),
};
const fresh = {
  StandardScaler: () => new mb.StandardScaler(),
  MeanCenter: () => new mb.MeanCenter(),
  ChannelNormalizer: () => new mb.ChannelNormalizer(),
  PCA: () => new mb.PCA(),
  ZCA: () => new mb.ZCA(),
};
const fromJSON: Record<keyof typeof fresh, (j: unknown) => unknown> = {
  StandardScaler: (j) => mb.StandardScaler.fromJSON(j),
  MeanCenter: (j) => mb.MeanCenter.fromJSON(j),
  ChannelNormalizer: (j) => mb.ChannelNormalizer.fromJSON(j),
  PCA: (j) => mb.PCA.fromJSON(j),
  ZCA: (j) => mb.ZCA.fromJSON(j),
};
type Kind = keyof typeof fresh;
const kinds = Object.keys(fresh) as Kind[];

const perKind = kinds.flatMap((k): Case[] => [
  { name: `${k}.fit(null)`, run: () => fresh[k]().fit(null as never), error: 'TypeError', names: 'for x' },
  { name: `${k}.fit(1-D)`, run: () => fresh[k]().fit({ data: F(4), shape: [4] }), error: 'RangeError', names: 'for x' },
  { name: `${k}.fit(NaN values)`, run: () => fresh[k]().fit({ data: F(24, NaN), shape: k === 'ChannelNormalizer' ? [2, 3, 2, 2] : [6, 4] }), error: 'RangeError', names: 'for x' },
  { name: `${k}.fit(empty batch)`, run: () => fresh[k]().fit({ data: F(0), shape: [0, 4] }), error: 'RangeError', names: 'for x' },
  { name: `${k}.fit(detached)`, run: () => fresh[k]().fit({ data: detached(24), shape: [6, 4] }), error: 'RangeError', names: 'for x' },
  { name: `${k}.fit('data')`, run: () => fresh[k]().fit('data' as never), error: 'TypeError', names: 'for x' },
  { name: `${k}.transform(wrong features)`, run: () => (fitted[k]() as { transform(x: unknown): unknown }).transform({ data: F(10), shape: [2, 5] }), error: 'RangeError', names: 'for x' },
  { name: `${k}.transform(NaN)`, run: () => (fitted[k]() as { transform(x: unknown): unknown }).transform(k === 'ChannelNormalizer' ? { data: F(12, NaN), shape: [1, 3, 2, 2] } : { data: F(4, NaN), shape: [1, 4] }), error: 'RangeError', names: 'for x' },
  { name: `${k}.transform(null)`, run: () => (fitted[k]() as { transform(x: unknown): unknown }).transform(null), error: 'TypeError', names: 'for x' },
  { name: `${k}.fromJSON(null)`, run: () => fromJSON[k](null), error: 'TypeError', names: 'for json' },
  { name: `${k}.fromJSON('{}')`, run: () => fromJSON[k]('{}'), error: 'TypeError', names: 'for json' },
  { name: `${k}.fromJSON(another kind)`, run: () => fromJSON[k]({ ...(fitted[k]() as { toJSON(): object }).toJSON(), kind: 'Other' }), error: 'RangeError', names: 'for json.kind' },
  { name: `${k}.fromJSON(mean with NaN)`, run: () => { const j = (fitted[k]() as { toJSON(): { mean: number[] } }).toJSON(); j.mean[0] = NaN; return fromJSON[k](j); }, error: 'RangeError', names: 'for json.mean[0]' },
  { name: `${k}.fromJSON(short mean)`, run: () => { const j = (fitted[k]() as { toJSON(): { mean: number[] } }).toJSON(); j.mean.pop(); return fromJSON[k](j); }, error: 'RangeError', names: 'for json.' },
]);

const cases: Case[] = [
  ...perKind,
  { name: 'StandardScaler.fromJSON(negative variance)', run: () => { const j = fitted.StandardScaler().toJSON(); j.variance[1] = -1; return mb.StandardScaler.fromJSON(j); }, error: 'RangeError', names: 'for json.variance[1]' },
  { name: 'StandardScaler.fromJSON(featureShape [-4])', run: () => { const j = fitted.StandardScaler().toJSON(); j.featureShape = [-4]; return mb.StandardScaler.fromJSON(j); }, error: 'RangeError', names: 'for json.featureShape[0]' },
  { name: 'StandardScaler.fromJSON(featureShape 4)', run: () => { const j = fitted.StandardScaler().toJSON(); return mb.StandardScaler.fromJSON({ ...j, featureShape: 4 }); }, error: 'TypeError', names: 'for json.featureShape' },
  { name: 'ChannelNormalizer.fromJSON(std 0)', run: () => { const j = fitted.ChannelNormalizer().toJSON(); j.std[0] = 0; return mb.ChannelNormalizer.fromJSON(j); }, error: 'RangeError', names: 'for std[0]' },
  { name: 'ChannelNormalizer({ mean only })', run: () => new mb.ChannelNormalizer({ mean: [0.5] }), error: 'TypeError', names: 'ChannelNormalizer' },
  { name: 'ChannelNormalizer({ std: [0] })', run: () => new mb.ChannelNormalizer({ mean: [0.5], std: [0] }), error: 'RangeError', names: 'for std[0]' },
  { name: 'ChannelNormalizer({ std: [-1] })', run: () => new mb.ChannelNormalizer({ mean: [0.5], std: [-1] }), error: 'RangeError', names: 'for std[0]' },
  { name: 'ChannelNormalizer(mean and std of different lengths)', run: () => new mb.ChannelNormalizer({ mean: [0.5, 0.5], std: [1] }), error: 'RangeError', names: 'for std' },
  { name: "ChannelNormalizer({ mean: ['a'] })", run: () => new mb.ChannelNormalizer({ mean: ['a' as never], std: [1] }), error: 'TypeError', names: 'for mean[0]' },
  { name: 'ChannelNormalizer.transform(wrong channels)', run: () => new mb.ChannelNormalizer({ mean: [0, 0], std: [1, 1] }).transform(IMG()), error: 'RangeError', names: 'for x' },
  { name: 'ChannelNormalizer option typo', run: () => new mb.ChannelNormalizer({ means: [0] } as never), error: 'TypeError', names: "'mean'" },
  { name: 'PCA({ components: 0 })', run: () => new mb.PCA({ components: 0 }), error: 'RangeError', names: 'for components' },
  { name: "PCA({ components: '2' })", run: () => new mb.PCA({ components: '2' as never }), error: 'TypeError', names: 'for components' },
  { name: 'PCA({ components: 1.5 })', run: () => new mb.PCA({ components: 1.5 }), error: 'RangeError', names: 'for components' },
  { name: 'PCA({ varianceRetained: 0 })', run: () => new mb.PCA({ varianceRetained: 0 }), error: 'RangeError', names: 'for varianceRetained' },
  { name: 'PCA({ varianceRetained: 1.5 })', run: () => new mb.PCA({ varianceRetained: 1.5 }), error: 'RangeError', names: 'for varianceRetained' },
  { name: 'PCA(components and varianceRetained)', run: () => new mb.PCA({ components: 2, varianceRetained: 0.9 }), error: 'TypeError', names: 'PCA' },
  { name: "PCA({ whiten: 'yes' })", run: () => new mb.PCA({ whiten: 'yes' as never }), error: 'TypeError', names: 'for whiten' },
  { name: 'PCA({ eps: -1 })', run: () => new mb.PCA({ eps: -1 }), error: 'RangeError', names: 'for eps' },
  { name: 'PCA({ backend: {} })', run: () => new mb.PCA({ backend: {} as never }), error: 'TypeError', names: 'for backend' },
  { name: 'PCA.fit(more components than features)', run: () => new mb.PCA({ components: 9 }).fit(X()), error: 'RangeError', names: 'for components' },
  { name: 'PCA option typo nComponents', run: () => new mb.PCA({ nComponents: 2 } as never), error: 'TypeError', names: 'PCA' },
  { name: 'ZCA({ eps: NaN })', run: () => new mb.ZCA({ eps: NaN }), error: 'RangeError', names: 'for eps' },
  { name: "ZCA({ eps: '1' })", run: () => new mb.ZCA({ eps: '1' as never }), error: 'TypeError', names: 'for eps' },
  { name: 'ZCA option typo', run: () => new mb.ZCA({ epsilon: 1 } as never), error: 'TypeError', names: 'ZCA' },
  { name: 'StandardScaler.inverseTransform(wrong features)', run: () => fitted.StandardScaler().inverseTransform({ data: F(3), shape: [1, 3] }), error: 'RangeError', names: 'for x' },
  { name: 'PCA.inverseTransform(wrong width)', run: () => fitted.PCA().inverseTransform({ data: F(3), shape: [1, 3] }), error: 'RangeError', names: 'for y' },
];
export default cases;
