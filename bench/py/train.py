"""PyTorch timings for bench/train.ts: one training step (zero grad, forward, cross-entropy, backward,
SGD momentum update) of the MLP and the CNN on random data. argv[1] is JSON
{specs: [{kind: 'mlp'|'cnn'|'mlp_plain'|'cifar', name, batch, key?, lr?}], lr, momentum, minMs, sanitySteps};
prints JSON {key (default: kind): {ms: median ms per step, losses: [first sanitySteps losses]}}.
Threads from OMP_NUM_THREADS. mlp_plain: 784-256-128-10 with ReLU and no BatchNorm (trains at batch
1); cifar: 3×32×32, conv64-BN-ReLU ×2, pool, conv128-BN-ReLU ×2, pool, linear 10."""
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def median_ms(fn, min_ms, repeats=7):
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
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - t0) * 1e3 / iters)
    samples.sort()
    return samples[len(samples) // 2]


def model(kind):
    if kind == 'mlp_plain':
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    if kind == 'cifar':
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        return nn.Sequential(
            *block(3, 64), *block(64, 64), nn.MaxPool2d(2),
            *block(64, 128), *block(128, 128), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(128 * 8 * 8, 10),
        )
    if kind == 'mlp':
        return nn.Sequential(
            nn.Linear(784, 256), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, 128), nn.BatchNorm1d(128), nn.ReLU(),
            nn.Linear(128, 10),
        )
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


def main():
    args = json.loads(sys.argv[1])
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    out = {}
    for spec in args['specs']:
        torch.manual_seed(0)
        kind = spec['kind']
        n = spec['batch']
        shape = (n, 784) if kind.startswith('mlp') else (n, 3, 32, 32) if kind == 'cifar' else (n, 1, 28, 28)
        x = torch.rand(*shape) * 2 - 1
        y = torch.randint(0, 10, (n,))
        m = model(kind).train()
        opt = torch.optim.SGD(m.parameters(), lr=spec.get('lr', args['lr']), momentum=args['momentum'])

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
            return loss.item()

        losses = [step() for _ in range(args['sanitySteps'])]
        if not losses[-1] < losses[0]:
            raise SystemExit(f'{kind}: loss does not decrease: {losses}')
        out[spec.get('key', kind)] = {'ms': median_ms(step, args['minMs']), 'losses': losses}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
