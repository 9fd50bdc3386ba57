"""PyTorch timings for bench/norm.ts: argv[1] is JSON {cases: [{name, kind, shape, groups?}], minMs},
prints JSON {name: {fwd: ms, fwdBwd: ms}} (medians). Thread count comes from OMP_NUM_THREADS."""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F


def median_ms(fn, min_ms):
    for _ in range(2):
        fn()
    iters = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        dt = (time.perf_counter() - t0) * 1e3
        if dt >= min_ms or iters >= 1 << 16:
            break
        iters *= 2
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - t0) * 1e3 / iters)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    args = json.loads(sys.argv[1])
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    torch.manual_seed(0)
    out = {}
    for case in args['cases']:
        shape = case['shape']
        x = torch.randn(*shape)
        dy = torch.randn(*shape)
        kind = case['kind']
        c = shape[1]
        if kind == 'layer':
            gamma = torch.ones(*shape[1:], requires_grad=True)
            beta = torch.zeros(*shape[1:], requires_grad=True)
            f = lambda xx: F.layer_norm(xx, shape[1:], gamma, beta, 1e-5)
        elif kind == 'group':
            gamma = torch.ones(c, requires_grad=True)
            beta = torch.zeros(c, requires_grad=True)
            f = lambda xx: F.group_norm(xx, case['groups'], gamma, beta, 1e-5)
        else:
            gamma = torch.ones(c, requires_grad=True)
            beta = torch.zeros(c, requires_grad=True)
            f = lambda xx: F.batch_norm(xx, None, None, gamma, beta, training=True, eps=1e-5)

        def fwd():
            with torch.no_grad():
                f(x)

        xg = x.clone().requires_grad_(True)

        def fwd_bwd():
            xg.grad = None
            gamma.grad = None
            beta.grad = None
            f(xg).backward(dy)

        out[case['name']] = {'fwd': median_ms(fwd, args['minMs']), 'fwdBwd': median_ms(fwd_bwd, args['minMs'])}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
