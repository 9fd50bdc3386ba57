/** Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_. */
import { checkNumber, describe, fail } from '../validate';
import { checkParams, type Params } from './checks';

/**
 * Scales all gradients together so that their total norm is at most maxNorm, as
 * torch.nn.utils.clip_grad_norm_: total = (Σ|g|^p)^(1/p) over every gradient (max |g| for
 * normType Infinity), then g *= min(1, maxNorm / (total + 1e-6)). Returns the total norm before
 * clipping. A non-finite total scales by NaN, as PyTorch does by default.
 */
export function clipGradNorm(params: Params, maxNorm: number, normType = 2): number {
  const arenas = checkParams(params);
  checkNumber(maxNorm, 'maxNorm', 0);
  if (typeof normType !== 'number') fail('type', 'number > 0 or Infinity', 'normType', describe(normType));
  if (!(normType > 0)) fail('range', 'number > 0 or Infinity', 'normType', describe(normType));
  let total = 0;
  if (normType === Infinity) {
    for (const a of arenas) for (const g of a.grad) total = Math.max(total, Math.abs(g)); // NaN stays NaN
  } else {
    let sum = 0;
    for (const a of arenas) {
      const g = a.grad;
      if (normType === 2) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
      else if (normType === 1) for (let i = 0; i < g.length; i++) sum += Math.abs(g[i]);
      else for (let i = 0; i < g.length; i++) sum += Math.abs(g[i]) ** normType;
    }
    total = normType === 1 ? sum : normType === 2 ? Math.sqrt(sum) : sum ** (1 / normType);
  }
  const coef = Math.fround(maxNorm / (total + 1e-6));
  if (!(coef >= 1)) for (const a of arenas) {
    const g = a.grad;
    for (let i = 0; i < g.length; i++) g[i] *= coef;
  }
  return total;
}

/** Clamps every gradient to [-clipValue, clipValue], as torch.nn.utils.clip_grad_value_. */
export function clipGradValue(params: Params, clipValue: number): void {
  const arenas = checkParams(params);
  checkNumber(clipValue, 'clipValue', 0);
  for (const a of arenas) {
    const g = a.grad;
    for (let i = 0; i < g.length; i++) {
      if (g[i] > clipValue) g[i] = clipValue;
      else if (g[i] < -clipValue) g[i] = -clipValue;
    }
  }
}
