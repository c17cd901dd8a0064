#!/usr/bin/python3
"""PyTorch side of the whole-training-step benchmark (optional peer; leantrain never needs it).

Times full training steps (forward, cross-entropy, backward, SGD momentum step with weight decay)
of the same models as leantrain's `bench/peers/compare-step.ts`: ResNet-20 for CIFAR (He et al.,
option-A shortcuts, the common CIFAR ResNet code) and ResNet-18 with a CIFAR stem (torchvision
resnet18 with a 3x3 stride-1 conv1 and no max pool), on random 3x32x32 inputs.

Output: JSON on stdout {"machine": {...}, "threads", "model", "batch", "stepsMs": [...],
"medianMs", "imagesPerSec", "peakRssMiB"}.

    /usr/bin/python3 bench/peers/pytorch_step.py --model resnet20 --batch 128 --threads 2

As pytorch_conv.py, the script re-executes itself with glibc's mmap/trim thresholds raised, so
freed activations stay warm instead of being page-faulted in every step (--no-malloc-tuning
keeps the defaults).
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_cifar_resnet import ResNet20  # noqa: E402


def build(name):
    if name == 'resnet20':
        return ResNet20()
    if name == 'resnet18_cifar':
        import torchvision
        m = torchvision.models.resnet18(num_classes=10)
        m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        m.maxpool = nn.Identity()
        return m
    raise SystemExit(f'pytorch_step.py: unknown model {name} (resnet20, resnet18_cifar)')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default='resnet20')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--no-malloc-tuning', action='store_true')
    args = ap.parse_args()
    if not args.no_malloc_tuning and 'MALLOC_MMAP_THRESHOLD_' not in os.environ:
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='33554432', MALLOC_TRIM_THRESHOLD_='17179869184')
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args.model)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    out = {
        'machine': {'torch': torch.__version__, 'mkldnn': torch.backends.mkldnn.is_available(), 'platform': platform.platform()},
        'threads': torch.get_num_threads(), 'model': args.model, 'batch': args.batch,
        'stepsMs': times, 'medianMs': med, 'imagesPerSec': 1000 * args.batch / med,
        'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
