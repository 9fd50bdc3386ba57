"""PyTorch side of `npm run bench -- mnist`: the CNN of examples/mnist.ts trained the same way on the
same digits. argv[1] is JSON {dir, nTrain, nTest, epochs, batchSize, lr, valFraction, seed}; dir holds
xTrain.f32 / yTrain.i32 / xTest.f32 / yTest.i32 (already standardized with the training set's
statistics, as the example does). Training: a seeded shuffle, the last valFraction held out for
validation (evaluated each epoch, as fit does), Adam with cosine annealing stepped every batch,
cross-entropy, batch size batchSize, reshuffled every epoch; then the test accuracy. Prints JSON
{seconds (training + evaluations), accuracy, loss}. Threads from OMP_NUM_THREADS."""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(d, name, dtype, shape):
    return torch.from_numpy(np.fromfile(os.path.join(d, name), dtype=dtype).reshape(shape))


def evaluate(m, x, y, bs=1000):
    m.eval()
    correct, total = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), bs):
            out = m(x[i:i + bs])
            total += F.cross_entropy(out, y[i:i + bs], reduction='sum').item()
            correct += (out.argmax(1) == y[i:i + bs]).sum().item()
    m.train()
    return correct / len(y), total / len(y)


def main():
    a = json.loads(sys.argv[1])
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    torch.manual_seed(a['seed'])
    d, n, nt = a['dir'], a['nTrain'], a['nTest']
    x = load(d, 'xTrain.f32', np.float32, (n, 1, 28, 28))
    y = load(d, 'yTrain.i32', np.int32, (n,)).long()
    xt = load(d, 'xTest.f32', np.float32, (nt, 1, 28, 28))
    yt = load(d, 'yTest.i32', np.int32, (nt,)).long()
    perm = torch.randperm(n)
    nval = int(round(n * a['valFraction']))
    tr, va = perm[: n - nval], perm[n - nval:]
    xtr, ytr, xva, yva = x[tr], y[tr], x[va], y[va]
    m = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )
    bs = a['batchSize']
    steps = math.ceil(len(ytr) / bs)
    opt = torch.optim.Adam(m.parameters(), lr=a['lr'])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=a['epochs'] * steps)
    t0 = time.perf_counter()
    for _ in range(a['epochs']):
        order = torch.randperm(len(ytr))
        for i in range(0, len(ytr), bs):
            idx = order[i:i + bs]
            opt.zero_grad()
            loss = F.cross_entropy(m(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            sched.step()
        evaluate(m, xva, yva)
    acc, loss = evaluate(m, xt, yt)
    print(json.dumps({'seconds': time.perf_counter() - t0, 'accuracy': acc, 'loss': loss}))


if __name__ == '__main__':
    main()
