// Activation layers (ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout) against PyTorch fixtures (both
// backends) and numerical gradients.
import { describe, it } from 'vitest';
import { backends, expectClose, fixture, randn } from '../helpers';
import { gradCheck } from '../gradcheck';
import { Linear, ReLU, LeakyReLU, ELU, Sigmoid, Tanh, Maxout, tensor } from '../../lib/index';
import type { Layer } from '../../lib/layers/layer';

const { cases } = fixture<{ cases: any[] }>('dense_layers.json');
const f32 = (a: number[]) => Float32Array.from(a);

function makeAct(kind: string, args: any, backend: any): Layer {
  switch (kind) {
    case 'relu':
      return new ReLU({ backend });
    case 'leaky_relu':
      return new LeakyReLU({ alpha: args.alpha, backend });
    case 'elu':
      return new ELU({ alpha: args.alpha, backend });
    case 'sigmoid':
      return new Sigmoid({ backend });
    default:
      return new Tanh({ backend });
  }
}

for (const [bname, backend] of backends) {
  describe(`activation layers vs PyTorch (${bname})`, () => {
    for (const c of cases.filter((k) => k.kind !== 'linear')) {
      const title = `${c.kind} ${JSON.stringify(c.args ?? { n: c.n, in: c.inFeatures, out: c.outFeatures, pieces: c.pieces })}`;
      it(title, () => {
        let layer: Layer;
        let xShape: number[];
        if (c.kind === 'linear' || c.kind === 'maxout') {
          layer =
            c.kind === 'linear'
              ? new Linear({ inFeatures: c.inFeatures, outFeatures: c.outFeatures, bias: c.bias, backend })
              : new Maxout({ inFeatures: c.inFeatures, outFeatures: c.outFeatures, pieces: c.pieces, backend });
          xShape = [c.n, c.inFeatures];
          layer.build([c.inFeatures]);
          layer.param('weight').data.set(c.weight);
          if (c.b) layer.param('bias').data.set(c.b);
        } else {
          layer = makeAct(c.kind, c.args, backend);
          xShape = c.shape;
        }
        const y = layer.forward(tensor(f32(c.x), xShape));
        expectClose(y.data, c.y, 1e-5, 1e-5, 'y');
        const dx = layer.backward(tensor(f32(c.dy), y.shape));
        expectClose(dx.data, c.dx, 1e-5, 1e-5, 'dx');
        if (c.dweight) expectClose(layer.param('weight').grad, c.dweight, 1e-5, 1e-5, 'dweight');
        if (c.dbias) expectClose(layer.param('bias').grad, c.dbias, 1e-5, 1e-5, 'dbias');
      });
    }
  });

  describe(`activation layers: numerical gradients (${bname})`, () => {
    const x = () => tensor(randn(6 * 8, 3, -2, 2), [6, 8]);
    it('Maxout', () => gradCheck(new Maxout({ inFeatures: 8, outFeatures: 4, pieces: 3, backend }), x()));
    for (const mk of [
      () => new Sigmoid({ backend }),
      () => new Tanh({ backend }),
      () => new ELU({ alpha: 0.7, backend }),
      () => new LeakyReLU({ alpha: 0.1, backend }),
      () => new ReLU({ backend }),
    ]) {
      const layer = mk();
      it(layer.className, () => {
        // keep inputs away from the kinks at 0 so central differences are valid
        const t = x();
        for (let i = 0; i < t.data.length; i++) if (Math.abs(t.data[i]) < 0.1) t.data[i] += 0.3;
        gradCheck(layer, t, { h: 1e-2 });
      });
    }
  });
}
