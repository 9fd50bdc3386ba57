import { type Case } from '../case';
import { mb, F, mlp } from '../fixtures';

const cases: Case[] = [
  { name: 'activationStats(null model)', run: () => mb.activationStats(null as never, { data: F(8), shape: [2, 4] }), error: 'TypeError', names: 'for model' },
  { name: 'activationStats(a layer)', run: () => mb.activationStats(new mb.ReLU() as never, { data: F(8), shape: [2, 4] }), error: 'TypeError', names: 'for model' },
  { name: 'activationStats(null x)', run: () => mb.activationStats(mlp(), null), error: 'TypeError', names: 'for x' },
  { name: 'activationStats(x wrong features)', run: () => mb.activationStats(mlp(), { data: F(6), shape: [2, 3] }), error: 'RangeError', names: 'for x' },
  { name: 'activationStats(x NaN)', run: () => mb.activationStats(mlp(), { data: F(8, NaN), shape: [2, 4] }), error: 'RangeError', names: 'for x' },
  { name: 'activationStats(x 1-D)', run: () => mb.activationStats(mlp(), F(4)), error: 'RangeError', names: 'for x' },
  { name: 'formatStats(null)', run: () => mb.formatStats(null as never), error: 'TypeError', names: 'for stats' },
  { name: "formatStats('x')", run: () => mb.formatStats('x' as never), error: 'TypeError', names: 'for stats' },
  { name: 'formatStats([5])', run: () => mb.formatStats([5 as never]), error: 'TypeError', names: 'for stats[0]' },
  { name: 'formatStats([{}])', run: () => mb.formatStats([{} as never]), error: 'TypeError', names: 'for stats[0]' },
];
export default cases;
