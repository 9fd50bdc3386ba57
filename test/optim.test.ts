// Public optimizer API: SGD, Adam, AdamW, RMSProp over parameter arenas against torch.optim 1.13,
// state dicts, schedules against torch's schedulers, gradient clipping against torch.nn.utils, and
// the exact messages for bad input.
import { describe, it, expect } from 'vitest';
import { backends, fixture, expectClose } from './helpers';
import type { ParamArena } from '../lib/params';
import {
  SGD, Adam, AdamW, RMSProp, Optimizer, clipGradNorm, clipGradValue,
  StepLR, ExponentialLR, CosineAnnealingLR, LinearWarmup, SequentialLR, LRScheduler,
} from '../lib/optim';

const fx = fixture('optim.json');
const N: number = fx.n;

/** One arena over the whole vector, with two named views (as a model would expose it). */
function oneArena(values: number[]): ParamArena {
  return {
    data: Float32Array.from(values),
    grad: new Float32Array(values.length),
    views: [
      { name: '0.weight', shape: [4, 5], offset: 0, size: 20 },
      { name: '0.bias', shape: [values.length - 20], offset: 20, size: values.length - 20 },
    ],
  };
}

/** The same vector as two standalone arenas. */
function twoArenas(values: number[]): ParamArena[] {
  const mk = (v: number[]): ParamArena => ({
    data: Float32Array.from(v),
    grad: new Float32Array(v.length),
    views: [{ name: 'weight', shape: [v.length], offset: 0, size: v.length }],
  });
  return [mk(values.slice(0, 20)), mk(values.slice(20))];
}

const concat = (arenas: ParamArena[]): number[] => arenas.flatMap((a) => Array.from(a.data));
const setGrads = (arenas: ParamArena[], g: number[]): void => {
  let o = 0;
  for (const a of arenas) {
    a.grad.set(g.slice(o, o + a.grad.length));
    o += a.grad.length;
  }
};

function make(kind: string, params: ParamArena | ParamArena[], options: any): Optimizer {
  switch (kind) {
    case 'SGD': return new SGD(params, options);
    case 'Adam': return new Adam(params, options);
    case 'AdamW': return new AdamW(params, options);
    default: return new RMSProp(params, options);
  }
}

const torchState: Record<string, string> = {
  momentum_buffer: 'momentumBuf', exp_avg: 'm', exp_avg_sq: 'v', square_avg: 'sq', max_exp_avg_sq: 'vMax', grad_avg: 'gradAvg',
};

describe('optimizers vs torch.optim', () => {
  for (const [bname, b] of backends) {
    for (const c of fx.optimizers) {
      for (const layout of ['one arena', 'two arenas'] as const) {
        it(`${bname} ${c.name} (${layout})`, () => {
          const arenas = layout === 'one arena' ? [oneArena(fx.param0)] : twoArenas(fx.param0);
          const opt = make(c.kind, layout === 'one arena' ? arenas[0] : arenas, { ...c.options, backend: b });
          expect(opt.backend).toBe(b);
          fx.grads.forEach((g: number[], t: number) => {
            setGrads(arenas, g);
            opt.step();
            expectClose(concat(arenas), c.after[t], 2e-6, 2e-7, `${c.name} step ${t + 1}`);
          });
          expect(opt.steps).toBe(fx.grads.length);
          const sd = opt.stateDict();
          expect(sd.step).toBe(fx.grads.length);
          for (const [k, want] of Object.entries(c.state as Record<string, number[]>)) {
            const got = sd.state.flatMap((s) => s[torchState[k]] as number[]);
            expectClose(got, want, 2e-6, 1e-6, `${c.name} ${k}`);
          }
        });
      }
    }
  }

  it('defaults are PyTorch\'s', () => {
    const a = oneArena(fx.param0);
    expect(new Adam(a).options).toEqual({ betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    expect(new Adam(a).lr).toBe(1e-3);
    expect(new AdamW(a).options.weightDecay).toBe(1e-2);
    expect(new RMSProp(a).options).toEqual({ alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false });
    expect(new RMSProp(a).lr).toBe(1e-2);
    expect(new SGD(a, { lr: 0.5 }).options).toEqual({ momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 });
  });
});

describe('optimizer state', () => {
  for (const c of fx.optimizers) {
    it(`${c.name}: stateDict after 3 steps resumes to the same 6-step result`, () => {
      const a1 = oneArena(fx.param0);
      const o1 = make(c.kind, a1, { ...c.options, backend: 'js' });
      for (const g of fx.grads.slice(0, 3)) {
        a1.grad.set(g);
        o1.step();
      }
      const saved = JSON.parse(JSON.stringify(o1.stateDict()));
      // A fresh optimizer with other hyper-parameters: loading restores those too.
      const a2: ParamArena = { ...oneArena(fx.param0), data: a1.data.slice() };
      const o2 = make(c.kind, a2, { lr: 0.777, backend: 'native' });
      o2.loadStateDict(saved);
      expect(o2.lr).toBe(c.options.lr);
      expect(o2.steps).toBe(3);
      for (const g of fx.grads.slice(3)) {
        a1.grad.set(g);
        a2.grad.set(g);
        o1.step();
        o2.step();
      }
      expect(Array.from(a2.data)).toEqual(Array.from(a1.data));
      expectClose(a2.data, c.after[fx.grads.length - 1], 2e-6, 2e-7, c.name);
    });
  }

  it('SGD keeps no momentum buffer until the first step, and none without momentum', () => {
    const a = oneArena(fx.param0);
    const o = new SGD(a, { lr: 0.1, momentum: 0.9 });
    expect(o.stateDict().state[0].momentumBuf).toBeNull();
    a.grad.fill(1);
    o.step();
    expect(o.stateDict().state[0].momentumBuf!.slice(0, 2)).toEqual([1, 1]);
    const p = new SGD(a, { lr: 0.1 });
    p.step();
    expect(p.stateDict().state[0].momentumBuf).toBeNull();
  });

  it('lr can be read and set, and the next step uses it', () => {
    const a = oneArena([...Array(N)].map(() => 1));
    const o = new SGD(a, { lr: 0.1 });
    expect(o.lr).toBe(0.1);
    o.lr = 0.5;
    a.grad.fill(2);
    o.step();
    expect(a.data[0]).toBe(0);
    expect(() => {
      o.lr = -1;
    }).toThrow('Expected finite number >= 0 for lr but received -1 of type number');
    expect(o.lr).toBe(0.5);
  });

  it('zeroGrad zeroes every arena', () => {
    const arenas = twoArenas(fx.param0);
    setGrads(arenas, fx.grads[0]);
    const o = new Adam(arenas);
    o.zeroGrad();
    expect(arenas.every((a) => a.grad.every((x) => x === 0))).toBe(true);
    expect(arenas[0].data[0]).toBe(Math.fround(fx.param0[0]));
  });

  it('a state dict of the wrong kind or size is refused before anything changes', () => {
    const a = oneArena(fx.param0);
    const o = new Adam(a, { lr: 0.01 });
    a.grad.fill(0.5);
    o.step();
    const sd = o.stateDict();
    expect(() => new SGD(a, { lr: 0.1 }).loadStateDict(sd)).toThrow('Expected state of a SGD for stateDict.kind but received \'Adam\' of type string');
    const other = new Adam(oneArena(fx.param0.slice(0, 30)));
    expect(() => other.loadStateDict(sd)).toThrow(`Expected array of 30 numbers for stateDict.state[0].m but received Array of length ${N}`);
    expect(other.steps).toBe(0);
    expect(other.lr).toBe(1e-3);
    expect(() => o.loadStateDict({ ...sd, options: { ...sd.options, eps: -1 } })).toThrow(
      'Expected finite number > 0 for eps but received -1 of type number',
    );
  });
});

describe('schedules vs torch.optim.lr_scheduler', () => {
  for (const s of fx.schedules) {
    it(`${s.name} ${JSON.stringify(s.options)}`, () => {
      const opt = new SGD(oneArena(fx.param0), { lr: 0.1 });
      let sched: LRScheduler;
      switch (s.kind) {
        case 'StepLR': sched = new StepLR(opt, s.options); break;
        case 'ExponentialLR': sched = new ExponentialLR(opt, s.options); break;
        case 'CosineAnnealingLR': sched = new CosineAnnealingLR(opt, s.options); break;
        case 'LinearWarmup': sched = new LinearWarmup(opt, s.options); break;
        default: {
          const warm = new LinearWarmup(opt, s.options.warmup);
          const cos = new CosineAnnealingLR(opt, s.options.cosine);
          sched = new SequentialLR(opt, { schedulers: [warm, cos], milestones: [s.options.milestone] });
        }
      }
      const got = [sched.getLastLr()];
      expect(opt.lr).toBe(got[0]);
      for (let e = 0; e < s.lrs.length - 1; e++) {
        sched.step();
        got.push(sched.getLastLr());
        expect(opt.lr).toBe(got[got.length - 1]);
      }
      expectClose(got, s.lrs, 1e-12, 1e-15, s.name);
      expect(new Set(got.map((x) => x.toFixed(12))).size).toBeGreaterThan(2);
    });
  }

  it('a schedule state dict restores the epoch and the lr', () => {
    const opt = new SGD(oneArena(fx.param0), { lr: 0.1 });
    const s = new CosineAnnealingLR(opt, { tMax: 10 });
    for (let i = 0; i < 4; i++) s.step();
    const opt2 = new SGD(oneArena(fx.param0), { lr: 0.1 });
    const s2 = new CosineAnnealingLR(opt2, { tMax: 10 });
    s2.loadStateDict(JSON.parse(JSON.stringify(s.stateDict())));
    expect(opt2.lr).toBe(opt.lr);
    s.step();
    s2.step();
    expect(s2.getLastLr()).toBe(s.getLastLr());
  });
});

describe('gradient clipping vs torch.nn.utils', () => {
  const { sizes, grads, norm, value } = fx.clipping;
  const arenasOf = (): ParamArena[] =>
    sizes.map((n: number, i: number) => ({
      data: new Float32Array(n),
      grad: Float32Array.from(grads[i]),
      views: [{ name: `p${i}`, shape: [n], offset: 0, size: n }],
    }));
  for (const c of norm) {
    it(`clipGradNorm maxNorm ${c.maxNorm} normType ${c.normType}`, () => {
      const normType = c.normType === 'inf' ? Infinity : c.normType;
      const arenas = arenasOf();
      const total = clipGradNorm(arenas, c.maxNorm, normType);
      expect(Math.abs(total - c.total)).toBeLessThanOrEqual(2e-6 * c.total);
      expectClose(arenas.flatMap((a) => Array.from(a.grad)), c.grads.flat(), 2e-6, 1e-7, 'clipped');
      // One arena holding all of them gives the same.
      const one: ParamArena = { data: new Float32Array(13), grad: Float32Array.from(grads.flat()), views: [] };
      expect(clipGradNorm(one, c.maxNorm, normType)).toBeCloseTo(total, 12);
      expectClose(one.grad, c.grads.flat(), 2e-6, 1e-7, 'clipped one arena');
    });
  }

  it('clipGradValue', () => {
    const arenas = arenasOf();
    clipGradValue(arenas, value.clipValue);
    expect(arenas.flatMap((a) => Array.from(a.grad))).toEqual(value.grads.flat());
    expect(arenas.some((a) => a.grad.some((x) => x === Math.fround(0.3)))).toBe(true);
  });
});

describe('bad input', () => {
  const arena = (): ParamArena => oneArena(fx.param0);
  const cases: [string, () => unknown, any, string][] = [
    ['unknown option learningRate', () => new SGD(arena(), { learningRate: 0.1 } as any), TypeError,
      "Expected one of 'lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'backend' for an option of SGD but received 'learningRate' (did you mean 'lr'?)"],
    ['unknown option weight_decay', () => new AdamW(arena(), { weight_decay: 0.1 } as any), TypeError,
      "Expected one of 'lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'backend' for an option of AdamW but received 'weight_decay' (did you mean 'weightDecay'?)"],
    ['unknown option momentm', () => new RMSProp(arena(), { momentm: 0.9 } as any), TypeError,
      "Expected one of 'lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'backend' for an option of RMSProp but received 'momentm' (did you mean 'momentum'?)"],
    ['missing lr', () => new SGD(arena(), {} as any), TypeError, 'Expected finite number >= 0 for lr but received undefined'],
    ['negative lr', () => new SGD(arena(), { lr: -0.1 }), RangeError, 'Expected finite number >= 0 for lr but received -0.1 of type number'],
    ['Float64Array arena', () => new SGD({ data: new Float64Array(4), grad: new Float32Array(4), views: [] } as any, { lr: 0.1 }), TypeError,
      'Expected Float32Array for params.data but received Float64Array of length 4'],
    ['short grad', () => new Adam({ data: new Float32Array(4), grad: new Float32Array(3), views: [] }), RangeError,
      'Expected Float32Array of length 4 (as params.data) for params.grad but received Float32Array of length 3'],
    ['bad second arena', () => new Adam([arena(), { data: new Float32Array(2) } as any]), TypeError,
      'Expected Float32Array for params[1].grad but received undefined'],
    ['no arenas', () => new Adam([]), RangeError, 'Expected at least one parameter arena for params but received an empty array'],
    ['a Float32Array as params', () => new Adam(new Float32Array(3) as any), TypeError,
      'Expected parameter arena ({ data, grad, views }) for params but received Float32Array of length 3'],
    ['nesterov without momentum', () => new SGD(arena(), { lr: 0.1, nesterov: true }), RangeError,
      'Expected momentum > 0 and dampening 0 for nesterov but received momentum 0 and dampening 0'],
    ['nesterov with dampening', () => new SGD(arena(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), RangeError,
      'Expected momentum > 0 and dampening 0 for nesterov but received momentum 0.9 and dampening 0.1'],
    ['negative momentum', () => new SGD(arena(), { lr: 0.1, momentum: -0.5 }), RangeError,
      'Expected finite number >= 0 for momentum but received -0.5 of type number'],
    ['beta of 1', () => new Adam(arena(), { betas: [0.9, 1] }), RangeError, 'Expected number in [0, 1) for betas[1] but received 1 of type number'],
    ['betas not a pair', () => new Adam(arena(), { betas: 0.9 as any }), TypeError,
      'Expected [beta1, beta2] pair of numbers in [0, 1) for betas but received 0.9 of type number'],
    ['eps of 0', () => new Adam(arena(), { eps: 0 }), RangeError, 'Expected finite number > 0 for eps but received 0 of type number'],
    ['string weight decay', () => new AdamW(arena(), { weightDecay: '0.1' as any }), TypeError,
      "Expected finite number >= 0 for weightDecay but received '0.1' of type string"],
    ['alpha above 1', () => new RMSProp(arena(), { alpha: 1.5 }), RangeError, 'Expected number between 0 and 1 for alpha but received 1.5 of type number'],
    ['unknown backend', () => new Adam(arena(), { backend: 'gpu' as any }), TypeError, "Expected 'js', 'native' or a Backend object for backend but received 'gpu' of type string"],
    ['backend object without kernels', () => new Adam(arena(), { backend: {} as any }), TypeError,
      "Expected 'js', 'native' or a Backend object for backend but received object of type Object"],
    ['StepLR step_size', () => new StepLR(new Adam(arena()), { step_size: 3 } as any), TypeError,
      "Expected one of 'stepSize', 'gamma' for an option of StepLR but received 'step_size' (did you mean 'stepSize'?)"],
    ['StepLR stepSize 0', () => new StepLR(new Adam(arena()), { stepSize: 0 }), RangeError, 'Expected integer >= 1 for stepSize but received 0 of type number'],
    ['CosineAnnealingLR T_max', () => new CosineAnnealingLR(new Adam(arena()), { T_max: 5 } as any), TypeError,
      "Expected one of 'tMax', 'etaMin' for an option of CosineAnnealingLR but received 'T_max' (did you mean 'tMax'?)"],
    ['ExponentialLR without gamma', () => new ExponentialLR(new Adam(arena()), {} as any), TypeError,
      'Expected finite number >= 0 for gamma but received undefined'],
    ['LinearWarmup startFactor 0', () => new LinearWarmup(new Adam(arena()), { warmupSteps: 3, startFactor: 0 }), RangeError,
      'Expected number in (0, 1] for startFactor but received 0 of type number'],
    ['schedule of a non-optimizer', () => new StepLR({ lr: 0.1 } as any, { stepSize: 2 }), TypeError,
      'Expected Optimizer for optimizer but received object of type Object'],
    ['SequentialLR milestones count', () => {
      const o = new Adam(arena());
      return new SequentialLR(o, { schedulers: [new LinearWarmup(o, { warmupSteps: 2 }), new StepLR(o, { stepSize: 2 })], milestones: [] });
    }, RangeError, 'Expected array of 1 milestones (one fewer than schedulers) for milestones but received Array of length 0'],
    ['SequentialLR of another optimizer', () => {
      const o = new Adam(arena());
      return new SequentialLR(o, { schedulers: [new StepLR(new Adam(arena()), { stepSize: 2 })], milestones: [] });
    }, RangeError, 'Expected a schedule of the same optimizer for schedulers[0] but received a schedule of another optimizer'],
    ['clipGradNorm normType 0', () => clipGradNorm(arena(), 1, 0), RangeError, 'Expected number > 0 or Infinity for normType but received 0 of type number'],
    ['clipGradNorm negative maxNorm', () => clipGradNorm(arena(), -1), RangeError, 'Expected finite number >= 0 for maxNorm but received -1 of type number'],
    ['clipGradValue NaN', () => clipGradValue(arena(), NaN), RangeError, 'Expected finite number >= 0 for clipValue but received NaN of type number'],
  ];
  for (const [what, fn, kind, msg] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(kind);
      expect((err as Error).message).toBe(msg);
    });
  }
});
