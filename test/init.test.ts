// Initializers: the constant-weight warning, the lecture variances, reproducibility.
import { describe, it, expect } from 'vitest';
import { Linear, init, Generator } from '../lib/index';

describe('initializers', () => {
  it('constant weights warn that every unit learns the same thing; biases do not', async () => {
    const warnings: string[] = [];
    const onWarn = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarn);
    const lin = new Linear({ inFeatures: 4, outFeatures: 3, weightInit: init.constant(0.5), biasInit: init.zeros(), name: 'sym' });
    lin.build([4]);
    await new Promise((r) => setTimeout(r, 10));
    process.off('warning', onWarn);
    expect(Array.from(lin.param('weight').data)).toEqual(new Array(12).fill(0.5));
    expect(warnings.filter((w) => w.includes("Linear 'sym'"))).toHaveLength(1);
    expect(warnings[0]).toMatch(/all units learn the same thing/);
  });
  it('small random, Xavier and Kaiming have the lecture variances', () => {
    const ctx = { fanIn: 800, fanOut: 200, role: 'weight' as const, layer: 't' };
    const std = (i: init.Initializer) => {
      const a = new Float32Array(200_000);
      i.fill(a, ctx, new Generator(5));
      let s = 0;
      for (const v of a) s += v * v;
      return Math.sqrt(s / a.length);
    };
    expect(std(init.normal(0.01))).toBeCloseTo(0.01, 4);
    expect(std(init.xavierNormal({ mode: 'fanIn' }))).toBeCloseTo(1 / Math.sqrt(800), 3);
    expect(std(init.xavierUniform())).toBeCloseTo(Math.sqrt(2 / 1000), 3);
    expect(std(init.kaimingNormal())).toBeCloseTo(Math.sqrt(2 / 800), 3);
    expect(std(init.kaimingUniform({ mode: 'fanOut' }))).toBeCloseTo(Math.sqrt(2 / 200), 3);
    expect(std(init.kaimingNormal({ nonlinearity: 'leaky_relu', a: 0.2 }))).toBeCloseTo(Math.sqrt(2 / (1 + 0.04)) / Math.sqrt(800), 3);
    expect(() => init.kaimingNormal({ mod: 'fanIn' } as any)).toThrow(/did you mean 'mode'/);
  });
  it('the same seed gives the same weights', () => {
    const a = new Linear({ inFeatures: 5, outFeatures: 5 });
    const b = new Linear({ inFeatures: 5, outFeatures: 5 });
    a.build([5], new Generator(42));
    b.build([5], new Generator(42));
    expect(Array.from(a.param('weight').data)).toEqual(Array.from(b.param('weight').data));
  });
});
