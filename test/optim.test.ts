// Public optimizer API: SGD, Adam, AdamW, RMSProp over parameter arenas against torch.optim 1.13,
// state dicts, schedules against torch's schedulers, gradient clipping against torch.nn.utils, and
// the exact messages for bad input.
import { describe, it, expect } from 'vitest';
import { backends, js, fixture, expectClose } from './helpers';
import type { ParamArena } from '../lib/params';
import type { OptimizerSnapshot } from '../lib/optim';
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

// stepGuarded: step() with the NaN guard's copies fused into the update's pass, over arenas that
// are views of one weights array (as a model's), against captureState + step + a finite check.
describe('stepGuarded', () => {
  const W = fx.param0.length;
  type Layout = 'one arena' | 'two arenas, in reverse order';
  /** The weights array and the arenas over it (fresh copies of param0). */
  function views(layout: Layout): { weights: Float32Array; arenas: ParamArena[] } {
    const weights = Float32Array.from(fx.param0);
    const grads = new Float32Array(W);
    if (layout === 'one arena') return { weights, arenas: [{ data: weights, grad: grads, views: [] }] };
    const cut = 20;
    return {
      weights,
      arenas: [
        { data: weights.subarray(cut), grad: grads.subarray(cut), views: [] },
        { data: weights.subarray(0, cut), grad: grads.subarray(0, cut), views: [] },
      ],
    };
  }
  const setAll = (arenas: ParamArena[], weights: Float32Array, g: number[]) => {
    for (const a of arenas) {
      const at = (a.data.byteOffset - weights.byteOffset) / 4;
      a.grad.set(g.slice(at, at + a.grad.length));
    }
  };
  const plainSnap = (s: { step: number; buffers: Record<string, Float32Array | null>[] }) => ({
    step: s.step,
    buffers: s.buffers.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v && Array.from(v)]))),
  });
  /** The TypeScript loops (AMSGrad, centered) have no guarded form. */
  const fusable = (c: { options: Record<string, unknown> }) => !c.options.amsgrad && !c.options.centered;

  for (const [bname, b] of backends) {
    for (const c of fx.optimizers) {
      for (const layout of ['one arena', 'two arenas, in reverse order'] as const) {
        it(`${bname} ${c.name} (${layout}): the same bits, backups and snapshot as captureState + step`, () => {
          const ref = views(layout);
          const fused = views(layout);
          const refOpt = make(c.kind, ref.arenas, { ...c.options, backend: b });
          const opt = make(c.kind, fused.arenas, { ...c.options, backend: b });
          const backup = new Float32Array(W);
          // a slot shaped by nothing yet: stepGuarded sizes it as captureState would
          let snap: OptimizerSnapshot = { step: 0, buffers: opt.params.map(() => ({})) };
          let fusedSteps = 0;
          fx.grads.forEach((g: number[], t: number) => {
            setAll(ref.arenas, ref.weights, g);
            setAll(fused.arenas, fused.weights, g);
            const before = Array.from(ref.weights);
            const refSnap = refOpt.captureState();
            refOpt.step();
            let ok = opt.stepGuarded(fused.weights, backup, snap);
            if (ok === null) {
              // what the trainer does then: the same copies, taken apart from the update
              backup.set(fused.weights);
              snap = opt.captureState(snap);
              opt.step();
              ok = fused.weights.every(Number.isFinite);
            } else fusedSteps++;
            expect(ok).toBe(true);
            expect(Array.from(fused.weights), `step ${t + 1}`).toEqual(Array.from(ref.weights));
            expect(Array.from(backup)).toEqual(before);
            expect(plainSnap(snap)).toEqual(plainSnap(refSnap));
            expect(opt.stateDict()).toEqual(refOpt.stateDict());
          });
          // SGD's first momentum step creates its buffer, so it takes the plain path
          const firstPlain = c.kind === 'SGD' && (c.options.momentum ?? 0) !== 0;
          expect(fusedSteps).toBe(fusable(c) ? fx.grads.length - (firstPlain ? 1 : 0) : 0);
          // restoreState and the backup undo the last step
          opt.restoreState(snap);
          fused.weights.set(backup);
          expect(opt.steps).toBe(fx.grads.length - 1);
        });
      }
    }

    it(`${bname}: a NaN in a gradient or an update that overflows returns false, and the backups undo it`, () => {
      for (const [kind, options] of [['SGD', { lr: 0.1, momentum: 0.9 }], ['Adam', { lr: 0.01 }], ['AdamW', { lr: 0.01 }], ['RMSProp', { lr: 0.01, momentum: 0.5 }]] as const) {
        for (const fault of ['NaN gradient', 'huge lr']) {
          const { weights, arenas } = views('two arenas, in reverse order');
          const opt = make(kind, arenas, { ...options, backend: b });
          setAll(arenas, weights, fx.grads[0]);
          opt.step();
          const snap = opt.captureState();
          const backup = new Float32Array(W);
          const w0 = Array.from(weights);
          const sd0 = opt.stateDict();
          setAll(arenas, weights, fx.grads[1]);
          if (fault === 'NaN gradient') arenas[0].grad[3] = NaN;
          else opt.lr = 1e39; // rounds to an infinite float32 step
          expect(opt.stepGuarded(weights, backup, snap), `${kind} ${fault}`).toBe(false);
          expect(weights.every(Number.isFinite)).toBe(false);
          opt.restoreState(snap);
          weights.set(backup);
          if (fault === 'huge lr') opt.lr = sd0.options.lr as number;
          expect(Array.from(weights)).toEqual(w0);
          expect(opt.stateDict()).toEqual(sd0);
        }
      }
    });
  }

  it('returns null and changes nothing where the fused form does not apply', () => {
    class MySGD extends SGD {}
    const cases: [string, () => { opt: Optimizer; weights: Float32Array; backup?: Float32Array }][] = [
      ['a subclass', () => {
        const { weights, arenas } = views('one arena');
        return { opt: new MySGD(arenas, { lr: 0.1 }), weights };
      }],
      ['a replaced step', () => {
        const { weights, arenas } = views('one arena');
        const opt = new SGD(arenas, { lr: 0.1 });
        const step = opt.step.bind(opt);
        opt.step = () => step();
        return { opt, weights };
      }],
      ['AMSGrad', () => {
        const { weights, arenas } = views('one arena');
        return { opt: new Adam(arenas, { amsgrad: true }), weights };
      }],
      ['centered RMSprop', () => {
        const { weights, arenas } = views('one arena');
        return { opt: new RMSProp(arenas, { centered: true }), weights };
      }],
      ['arenas that leave a gap', () => {
        const { weights, arenas } = views('two arenas, in reverse order');
        return { opt: new SGD([arenas[0]], { lr: 0.1 }), weights };
      }],
      ['overlapping arenas', () => {
        const { weights, arenas } = views('two arenas, in reverse order');
        const a: ParamArena = { data: weights.subarray(10, 30), grad: new Float32Array(20), views: [] };
        return { opt: new SGD([arenas[0], a], { lr: 0.1 }), weights: weights.subarray(0, W - 10) };
      }],
      ['arenas in other memory', () => {
        const { arenas } = views('one arena');
        return { opt: new SGD(arenas, { lr: 0.1 }), weights: Float32Array.from(fx.param0) };
      }],
      ['a backup of another length', () => {
        const { weights, arenas } = views('one arena');
        return { opt: new SGD(arenas, { lr: 0.1 }), weights, backup: new Float32Array(W - 1) };
      }],
      ['a snapshot of another number of arenas', () => {
        const { weights, arenas } = views('one arena');
        return { opt: new Adam(arenas), weights };
      }],
      ['a first momentum step', () => {
        const { weights, arenas } = views('one arena');
        return { opt: new SGD(arenas, { lr: 0.1, momentum: 0.9 }), weights };
      }],
      ['a backend without the guarded kernels', () => {
        const { weights, arenas } = views('one arena');
        const partial = { ...js, sgdStepGuarded: undefined } as unknown as typeof js;
        return { opt: new SGD(arenas, { lr: 0.1, backend: partial }), weights };
      }],
    ];
    for (const [what, mk] of cases) {
      const { opt, weights, backup = new Float32Array(weights.length).fill(7) } = mk();
      for (const a of opt.params) a.grad.fill(0.5);
      const snap = what === 'a snapshot of another number of arenas' ? { step: 0, buffers: [{}, {}] } : opt.captureState();
      const snap0 = plainSnap(snap);
      const w0 = Array.from(weights);
      const sd0 = opt.stateDict();
      const b0 = Array.from(backup);
      expect(opt.stepGuarded(weights, backup, snap), what).toBeNull();
      expect(Array.from(weights), what).toEqual(w0);
      expect(opt.stateDict(), what).toEqual(sd0);
      expect(Array.from(backup), what).toEqual(b0);
      expect(plainSnap(snap), what).toEqual(snap0);
    }
  });

  it('an update that throws in its second arena leaves complete backups (the first arena already updated)', () => {
    let calls = 0;
    const failing = {
      ...js,
      sgdStepGuarded: (...a: Parameters<typeof js.sgdStepGuarded>) => {
        if (++calls === 2) throw new RangeError('Expected a working kernel for sgdStepGuarded but received this one');
        return js.sgdStepGuarded(...a);
      },
    } as typeof js;
    const { weights, arenas } = views('two arenas, in reverse order');
    const opt = new SGD(arenas, { lr: 0.1, momentum: 0.9, backend: failing });
    setAll(arenas, weights, fx.grads[0]);
    opt.step();
    const snap = opt.captureState();
    const backup = new Float32Array(W);
    const w0 = Array.from(weights);
    const sd0 = opt.stateDict();
    setAll(arenas, weights, fx.grads[1]);
    expect(() => opt.stepGuarded(weights, backup, snap)).toThrow('Expected a working kernel');
    expect(Array.from(weights)).not.toEqual(w0); // the first arena did move
    expect(Array.from(backup)).toEqual(w0);
    opt.restoreState(snap);
    expect(opt.stateDict()).toEqual(sd0);
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
