"""PyTorch side of bench/conv.ts: times F.conv2d forward, and forward + dX + dW, on CPU.

argv[1] is JSON {"threads": t, "cases": [{"name", "n", "cIn", "h", "w", "cOut", "k", "pad"}], "repeats": r}.
Inputs are deterministic (x[i] = sin(i) / 2, w[i] = cos(i) / 8 over the flat index) so that the
TypeScript side can compare checksums. Prints one JSON line: per case, median milliseconds and the
sum and absolute sum of y.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def median_ms(fn, repeats):
    for _ in range(3):  # warm-up (oneDNN builds its primitives on the first calls)
        fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    iters = max(1, int(0.05 / max(one, 1e-6)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - t0) / iters * 1e3)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    args = json.loads(sys.argv[1])
    torch.set_num_threads(args['threads'])
    repeats = args.get('repeats', 5)
    out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'cases': []}
    for c in args['cases']:
        n, ci, h, w, co, k, pad = c['n'], c['cIn'], c['h'], c['w'], c['cOut'], c['k'], c['pad']
        x = (torch.arange(n * ci * h * w, dtype=torch.float64).sin() / 2).float().reshape(n, ci, h, w)
        wt = (torch.arange(co * ci * k * k, dtype=torch.float64).cos() / 8).float().reshape(co, ci, k, k)
        with torch.no_grad():
            y = F.conv2d(x, wt, None, 1, pad)
        dy = torch.ones_like(y) / 4
        xg = x.clone().requires_grad_()
        wg = wt.clone().requires_grad_()

        def fwd():
            with torch.no_grad():
                F.conv2d(x, wt, None, 1, pad)

        def fwd_bwd():
            xg.grad = None
            wg.grad = None
            F.conv2d(xg, wg, None, 1, pad).backward(dy)

        out['cases'].append({
            'name': c['name'],
            'fwd': median_ms(fwd, repeats),
            'fwdBwd': median_ms(fwd_bwd, repeats),
            'sum': float(y.double().sum()),
            'abssum': float(y.double().abs().sum()),
        })
    print(json.dumps(out))


if __name__ == '__main__':
    main()
