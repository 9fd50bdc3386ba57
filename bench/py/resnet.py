"""PyTorch timing for bench/resnet.ts: one training step (zero grad, forward, cross-entropy,
backward, SGD momentum update) of the small ResNet of examples/resnet.ts on random 1x28x28 data.
argv[1] is JSON {batch, lr, momentum, minMs}; prints JSON {ms: median ms per step, loss0, loss5}.
Threads from OMP_NUM_THREADS."""
import json
import os
import sys
import time

import torch
import torch.nn as nn


class Residual(nn.Module):
    def __init__(self, block, shortcut=None):
        super().__init__()
        self.block = block
        self.shortcut = shortcut

    def forward(self, x):
        return self.block(x) + (self.shortcut(x) if self.shortcut is not None else x)


def basic(cin, cout, stride):
    block = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                          nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
    sc = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if stride != 1 or cin != cout else None
    return [Residual(block, sc), nn.ReLU()]


def resnet():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                         *basic(16, 16, 1), *basic(16, 32, 2), *basic(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def main():
    a = json.loads(sys.argv[1])
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    torch.manual_seed(0)
    m = resnet()
    x = torch.rand(a['batch'], 1, 28, 28) * 2 - 1
    y = torch.randint(0, 10, (a['batch'],))
    opt = torch.optim.SGD(m.parameters(), lr=a['lr'], momentum=a['momentum'])
    lossf = nn.CrossEntropyLoss()
    losses = []

    def step():
        opt.zero_grad()
        loss = lossf(m(x), y)
        loss.backward()
        opt.step()
        return float(loss)

    for _ in range(6):
        losses.append(step())
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        n = 0
        while True:
            step()
            n += 1
            if (time.perf_counter() - t0) * 1e3 >= a['minMs']:
                break
        samples.append((time.perf_counter() - t0) * 1e3 / n)
    samples.sort()
    print(json.dumps({'ms': samples[len(samples) // 2], 'loss0': losses[0], 'loss5': losses[5]}))


main()
