/**
 * Optimizer updates in plain TypeScript, with torch.optim (1.13) numerics: every hyper-parameter is
 * rounded to float32 once (as PyTorch rounds a Python scalar into a float32 op) and every product,
 * sum, quotient and square root is rounded to float32 with Math.fround, in the same order as the
 * native kernels. A double result of one IEEE operation on two floats rounds to the float32 result,
 * so these loops agree with the native ones bit for bit.
 *
 * The guarded forms copy, update and check the whole range in turn: the native kernels interleave
 * the three chunk by chunk for the cache's sake, which changes no value.
 */

const f = Math.fround;

/** See Backend.sgdStep. momentumBuf is not touched when momentum is 0. */
export function sgdStep(
  param: Float32Array, grad: Float32Array, momentumBuf: Float32Array, n: number,
  lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean,
): void {
  const negLr = f(-lr);
  const mom = f(momentum);
  const oneMinusDamp = f(1 - dampening);
  const wd = f(weightDecay);
  const useMomentum = momentum !== 0;
  for (let i = 0; i < n; i++) {
    const p = param[i];
    let g = grad[i];
    if (wd !== 0) g = f(g + f(wd * p));
    if (useMomentum) {
      const b = firstStep ? g : f(f(momentumBuf[i] * mom) + f(oneMinusDamp * g));
      momentumBuf[i] = b;
      g = nesterov ? f(g + f(mom * b)) : b;
    }
    param[i] = p + f(negLr * g);
  }
}

/** See Backend.adamStep. decoupled = true is AdamW. */
export function adamStep(
  param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, n: number,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number,
): void {
  const negStepSize = f(-(lr / (1 - beta1 ** step)));
  const bc2Sqrt = f(Math.sqrt(1 - beta2 ** step));
  const b1 = f(beta1);
  const omb1 = f(1 - beta1);
  const b2 = f(beta2);
  const omb2 = f(1 - beta2);
  const e = f(eps);
  const wd = f(weightDecay);
  const decay = f(1 - lr * weightDecay);
  const useWd = !decoupled && weightDecay !== 0;
  for (let i = 0; i < n; i++) {
    let p = param[i];
    let g = grad[i];
    if (decoupled) p = f(p * decay);
    else if (useWd) g = f(g + f(wd * p));
    const mi = f(f(m[i] * b1) + f(omb1 * g));
    const vi = f(f(v[i] * b2) + f(f(omb2 * g) * g));
    m[i] = mi;
    v[i] = vi;
    const denom = f(f(f(Math.sqrt(vi)) / bc2Sqrt) + e);
    param[i] = p + f(f(negStepSize * mi) / denom);
  }
}

/** See Backend.rmspropStep. momentumBuf is not touched when momentum is 0. */
export function rmspropStep(
  param: Float32Array, grad: Float32Array, sq: Float32Array, momentumBuf: Float32Array, n: number,
  lr: number, alpha: number, eps: number, weightDecay: number, momentum: number,
): void {
  const negLr = f(-lr);
  const a = f(alpha);
  const oma = f(1 - alpha);
  const e = f(eps);
  const wd = f(weightDecay);
  const mom = f(momentum);
  const useMomentum = momentum > 0;
  for (let i = 0; i < n; i++) {
    const p = param[i];
    let g = grad[i];
    if (wd !== 0) g = f(g + f(wd * p));
    const s = f(f(sq[i] * a) + f(f(oma * g) * g));
    sq[i] = s;
    const avg = f(f(Math.sqrt(s)) + e);
    if (useMomentum) {
      const b = f(f(momentumBuf[i] * mom) + f(g / avg));
      momentumBuf[i] = b;
      param[i] = p + f(negLr * b);
    } else {
      param[i] = p + f(f(negLr * g) / avg);
    }
  }
}

/** The first n values of src into dst. */
function backup(dst: Float32Array, src: Float32Array, n: number): void {
  dst.set(n === src.length ? src : src.subarray(0, n));
}

/** Whether none of a[0..n) is NaN or ±infinity. */
function allFinite(a: Float32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] - a[i] !== 0) return false; // NaN for NaN and ±infinity
  return true;
}

/** See Backend.sgdStepGuarded. */
export function sgdStepGuarded(
  param: Float32Array, grad: Float32Array, momentumBuf: Float32Array, paramBackup: Float32Array, momentumBufBackup: Float32Array,
  n: number, lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean,
): boolean {
  backup(paramBackup, param, n);
  if (momentum !== 0) backup(momentumBufBackup, momentumBuf, n);
  sgdStep(param, grad, momentumBuf, n, lr, momentum, dampening, weightDecay, nesterov, firstStep);
  return allFinite(param, n);
}

/** See Backend.adamStepGuarded. */
export function adamStepGuarded(
  param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array,
  paramBackup: Float32Array, mBackup: Float32Array, vBackup: Float32Array, n: number,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number,
): boolean {
  backup(paramBackup, param, n);
  backup(mBackup, m, n);
  backup(vBackup, v, n);
  adamStep(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, decoupled, step);
  return allFinite(param, n);
}

/** See Backend.rmspropStepGuarded. */
export function rmspropStepGuarded(
  param: Float32Array, grad: Float32Array, sq: Float32Array, momentumBuf: Float32Array,
  paramBackup: Float32Array, sqBackup: Float32Array, momentumBufBackup: Float32Array, n: number,
  lr: number, alpha: number, eps: number, weightDecay: number, momentum: number,
): boolean {
  backup(paramBackup, param, n);
  backup(sqBackup, sq, n);
  if (momentum > 0) backup(momentumBufBackup, momentumBuf, n);
  rmspropStep(param, grad, sq, momentumBuf, n, lr, alpha, eps, weightDecay, momentum);
  return allFinite(param, n);
}
