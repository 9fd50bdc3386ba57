#!/usr/bin/env python3
"""
Rebuild a minibatch model in PyTorch, train it on, and write it back.

A minibatch checkpoint is one safetensors file: PyTorch's state-dict keys and layouts, and the
architecture in its metadata (`minibatch_config`). This file reads it with json + numpy (no
safetensors package needed), builds the equivalent torch.nn.Sequential, and writes a file that
`loadModel(path)` in minibatch reads back. Containers map to modules with PyTorch's key names: a
nested Sequential to nn.Sequential (`3.0.weight`), Residual to the small module below (`block.*`,
`shortcut.*`; torch has none), Concat to one whose branches are keyed 0, 1, ... From here, PyTorch's DistributedDataParallel can train
the model on many machines; the weights come back through the same file.

    python3 examples/to_pytorch.py model.safetensors                 # load, print the model
    python3 examples/to_pytorch.py model.safetensors --steps 20 --out more.safetensors
                                                                      # train on (random demo) data, write back

As a module:  from to_pytorch import load_minibatch, save_minibatch
"""
import argparse
import json
import struct
import sys

import numpy as np
import torch
from torch import nn

DTYPES = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32}


def read_safetensors(path):
    """(tensors as torch tensors, metadata dict) of a safetensors file."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop('__metadata__', {})
    tensors = {}
    for key, info in header.items():
        begin, end = info['data_offsets']
        raw = data[8 + n + begin:8 + n + end]
        if info['dtype'] == 'BF16':
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[info['dtype']])
        tensors[key] = torch.from_numpy(arr.reshape(info['shape']).copy())
    return tensors, metadata


def write_safetensors(path, tensors, metadata):
    """Writes tensors (F32, F64, F16, I64) and string metadata as safetensors."""
    names = {np.dtype(v): k for k, v in DTYPES.items()}
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        b = a.tobytes()
        header[key] = {'dtype': names[a.dtype], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    js = json.dumps(header, separators=(',', ':')).encode()
    js += b' ' * ((8 - (8 + len(js)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)) + js + b''.join(blobs))


class Maxout(nn.Module):
    """minibatch's Maxout: y[:, u] = max_p (x @ W[u*pieces + p] + b[u*pieces + p])."""

    def __init__(self, in_features, out_features, pieces):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.weight = nn.Parameter(torch.empty(out_features * pieces, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features * pieces))

    def forward(self, x):
        z = x @ self.weight.t() + self.bias
        return z.view(x.shape[0], self.out_features, self.pieces).max(dim=2).values


class Residual(nn.Module):
    """minibatch's Residual: y = block(x) + shortcut(x), the shortcut the identity when absent."""

    def __init__(self, block, shortcut=None):
        super().__init__()
        self.block = block
        self.shortcut = shortcut  # None registers no module: no shortcut.* keys, as in minibatch

    def forward(self, x):
        return self.block(x) + (self.shortcut(x) if self.shortcut is not None else x)


class Concat(nn.Module):
    """minibatch's Concat: branches on the same input, joined along dim 1; branches keyed 0, 1, ..."""

    def __init__(self, branches):
        super().__init__()
        for i, b in enumerate(branches):
            self.add_module(str(i), b)

    def forward(self, x):
        return torch.cat([b(x) for b in self.children()], dim=1)


class GlobalAvgPool2d(nn.Module):
    """minibatch's GlobalAvgPool2d: [N, C, H, W] -> [N, C], the mean of each plane."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def torch_layer(c):
    """The torch module of one minibatch layer config."""
    k = c['className']
    if k == 'Linear':
        return nn.Linear(c['inFeatures'], c['outFeatures'], bias=c.get('bias', True))
    if k == 'Conv2d':
        padding = c.get('padding', 0)
        return nn.Conv2d(c['inChannels'], c['outChannels'], pair(c['kernelSize']), stride=pair(c.get('stride', 1)),
                         padding=padding if padding == 'same' else pair(padding), dilation=pair(c.get('dilation', 1)),
                         groups=c.get('groups', 1), bias=c.get('bias', True))
    if k in ('BatchNorm1d', 'BatchNorm2d'):
        return getattr(nn, k)(c['numFeatures'], eps=c.get('eps', 1e-5), momentum=c.get('momentum', 0.1),
                              affine=c.get('affine', True), track_running_stats=c.get('trackRunningStats', True))
    if k == 'InstanceNorm2d':
        return nn.InstanceNorm2d(c['numFeatures'], eps=c.get('eps', 1e-5), momentum=c.get('momentum', 0.1),
                                 affine=c.get('affine', False), track_running_stats=c.get('trackRunningStats', False))
    if k == 'LayerNorm':
        return nn.LayerNorm(c['normalizedShape'], eps=c.get('eps', 1e-5), elementwise_affine=c.get('elementwiseAffine', True))
    if k == 'GroupNorm':
        return nn.GroupNorm(c['numGroups'], c['numChannels'], eps=c.get('eps', 1e-5), affine=c.get('affine', True))
    if k == 'ReLU':
        return nn.ReLU()
    if k == 'LeakyReLU':
        return nn.LeakyReLU(c.get('alpha', 0.01))
    if k == 'ELU':
        return nn.ELU(c.get('alpha', 1.0))
    if k == 'Sigmoid':
        return nn.Sigmoid()
    if k == 'Tanh':
        return nn.Tanh()
    if k == 'Maxout':
        return Maxout(c['inFeatures'], c['outFeatures'], c.get('pieces', 2))
    if k == 'MaxPool2d':
        return nn.MaxPool2d(pair(c['kernelSize']), stride=pair(c.get('stride', c['kernelSize'])), padding=pair(c.get('padding', 0)),
                            ceil_mode=c.get('ceilMode', False))
    if k == 'AvgPool2d':
        return nn.AvgPool2d(pair(c['kernelSize']), stride=pair(c.get('stride', c['kernelSize'])), padding=pair(c.get('padding', 0)),
                            ceil_mode=c.get('ceilMode', False), count_include_pad=c.get('countIncludePad', True))
    if k == 'GlobalAvgPool2d':
        return GlobalAvgPool2d()
    if k == 'AdaptiveAvgPool2d':
        return nn.AdaptiveAvgPool2d(1)
    if k == 'Identity':
        return nn.Identity()
    if k == 'Softmax':
        return nn.Softmax(dim=1)
    if k == 'Sequential':
        return nn.Sequential(*[torch_layer(l) for l in c['layers']])
    if k == 'Residual':
        return Residual(torch_layer(c['block']), torch_layer(c['shortcut']) if 'shortcut' in c else None)
    if k == 'Concat':
        return Concat([torch_layer(b) for b in c['branches']])
    if k == 'Flatten':
        return nn.Flatten()
    if k == 'Dropout':
        return nn.Dropout(c.get('p', 0.5))
    raise ValueError(f'no PyTorch equivalent written for layer class {k!r}')


def build(config):
    """torch.nn.Sequential of a minibatch model config (model.getConfig())."""
    return nn.Sequential(*[torch_layer(c) for c in config['layers']])


def load_minibatch(path):
    """(torch model in eval mode, config, metadata) of a minibatch checkpoint."""
    tensors, metadata = read_safetensors(path)
    config = json.loads(metadata['minibatch_config'])
    model = build(config)
    state = {k: v for k, v in tensors.items() if '/' not in k}  # optimizer/..., trainer/... are minibatch's
    own = model.state_dict()
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})
    return model.eval(), config, metadata


def save_minibatch(model, config, path):
    """Writes a torch model built by `build(config)` as a minibatch checkpoint (loadModel reads it)."""
    state = {k: (v.to(torch.int64) if k.endswith('num_batches_tracked') else v.float()) for k, v in model.state_dict().items()}
    write_safetensors(path, state, {'format': 'pt', 'minibatch_format': '1', 'minibatch_config': json.dumps(config)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('checkpoint')
    ap.add_argument('--steps', type=int, default=0, help='SGD steps on random demo data (replace with your DataLoader)')
    ap.add_argument('--out', help='where to write the model back for minibatch')
    args = ap.parse_args()
    model, config, _ = load_minibatch(args.checkpoint)
    print(model)
    if args.steps:
        torch.manual_seed(0)
        shape = [64] + list(config['inputShape'])
        classes = model(torch.zeros(shape)).shape[1]
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        model.train()
        for step in range(args.steps):
            x, y = torch.randn(shape), torch.randint(0, classes, (shape[0],))
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        print(f'{args.steps} steps, last loss {loss.item():.4f}')
        model.eval()
    if args.out:
        save_minibatch(model, config, args.out)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    sys.exit(main())
