#!/usr/bin/python3
"""PyTorch side of the whole-training-step benchmark (optional peer; leantrain never needs it).

Times full training steps (forward, cross-entropy, backward, SGD momentum step with weight decay)
of the same models as leantrain's `bench/peers/compare-step.ts`: ResNet-20 for CIFAR (He et al.,
option-A shortcuts, the common CIFAR ResNet code) and ResNet-18 with a CIFAR stem (torchvision
resnet18 with a 3x3 stride-1 conv1 and no max pool), on random 3x32x32 inputs.

Output: JSON on stdout {"machine": {...}, "threads", "model", "batch", "stepsMs": [...],
"medianMs", "imagesPerSec", "peakRssMiB"}; with --profile also "profile": per step, the
self time of the forward and backward ops by category (torch.profiler, CPU; categories as
leantrain's compare-breakdown.ts: conv, batchnorm, eltwise, pool, linear, loss, other) and the
optimizer step's wall time ("optimizer"), averaged over --steps profiled steps after the timed ones.

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


def category(name):
    """Category of an aten op (self time), as leantrain's compare-breakdown.ts groups its kernels."""
    n = name.lower()
    if 'conv' in n:
        return 'conv'
    if 'batch_norm' in n:
        return 'batchnorm'
    if 'pool' in n or n in ('aten::mean',):
        return 'pool'
    if 'addmm' in n or n in ('aten::mm', 'aten::linear', 'aten::matmul', 'aten::t'):
        return 'linear'
    if 'softmax' in n or 'nll_loss' in n or 'cross_entropy' in n:
        return 'loss'
    if any(k in n for k in ('relu', 'threshold', 'aten::add', 'constant_pad', 'aten::pad', 'slice')):
        return 'eltwise'
    return 'other'


def profile(model, opt, x, y, steps):
    """Per step ms: forward + backward ops by category (profiler self CPU time), optimizer wall."""
    from torch.profiler import profile as tprofile, ProfilerActivity
    cats = {}
    opt_ms = 0.0
    with tprofile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with torch.autograd.profiler.record_function('leantrain-bench-optimizer'):
                t0 = time.perf_counter()
                opt.step()
                opt_ms += (time.perf_counter() - t0) * 1e3
    # Ops under the optimizer's record_function are counted by its wall time, not by name.
    opt_ids = set()
    events = prof.events()
    for e in events:
        if e.name == 'leantrain-bench-optimizer':
            opt_ids.add(e.id)
    for e in events:
        if e.name == 'leantrain-bench-optimizer':
            continue
        p = e.cpu_parent
        under_opt = False
        while p is not None:
            if p.id in opt_ids:
                under_opt = True
                break
            p = p.cpu_parent
        if under_opt:
            continue
        c = category(e.name)
        cats[c] = cats.get(c, 0.0) + e.self_cpu_time_total / 1e3
    out = {k: v / steps for k, v in cats.items()}
    out['optimizer'] = opt_ms / steps
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default='resnet20')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--no-malloc-tuning', action='store_true')
    ap.add_argument('--profile', action='store_true')
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
    if args.profile:
        out['profile'] = profile(model, opt, x, y, args.steps)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
