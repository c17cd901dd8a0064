#!/usr/bin/python3
"""PyTorch side of the conv kernel benchmark (optional peer; leantrain never needs it).

Times the same dense conv shapes as `leantrain bench kernels` with torch on the CPU (no bias, as
leantrain's bench): forward via F.conv2d, backward-input via torch.nn.grad.conv2d_input and backward-weight via
torch.nn.grad.conv2d_weight (which call the same native convolution_backward as autograd).

Input: a JSON list of shapes (leantrain's Conv2dDims: N, C, H, W, K, R, S, P, Q, strideH,
strideW, padH, padW), or an object with a "shapes" list, on stdin or from the file named by
--shapes. Output: JSON on stdout {"machine": {...}, "threads", "rows": [{"shape", "kernel",
"medianMs", "minMs", "gflops"}]}.

Run with the system Python that has Debian's python3-torch:
    /usr/bin/python3 bench/peers/pytorch_conv.py --threads 2 --shapes shapes.json

Each torch call allocates its output. glibc returns large freed blocks to the OS, so every call
would page-fault its output in again (tens of ms per call on a VM): the script re-executes itself
with MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ raised so freed memory stays warm, which is
what leantrain's bench measures too (outputs allocated once). --no-malloc-tuning turns this off.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def shape_label(d):
    """Same label as src/bench/shapes.ts shapeLabel: '16x32x32->16 k3 s1 p1'."""
    def pair(a, b):
        return f"{a}" if a == b else f"{a}x{b}"
    return (f"{d['C']}x{d['H']}x{d['W']}->{d['K']} k{pair(d['R'], d['S'])} "
            f"s{pair(d['strideH'], d['strideW'])} p{pair(d['padH'], d['padW'])}")


def flops(d):
    return 2.0 * d['N'] * d['K'] * d['C'] * d['R'] * d['S'] * d['P'] * d['Q']


def time_fn(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def bench_shape(d, warmup, repeats):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(d['N'], d['C'], d['H'], d['W'], generator=g)
    w = torch.randn(d['K'], d['C'], d['R'], d['S'], generator=g) * 0.1
    stride = (d['strideH'], d['strideW'])
    padding = (d['padH'], d['padW'])
    dy = torch.randn(d['N'], d['K'], d['P'], d['Q'], generator=g)
    y = F.conv2d(x, w, None, stride=stride, padding=padding)
    if tuple(y.shape) != (d['N'], d['K'], d['P'], d['Q']):
        raise SystemExit(f"pytorch_conv.py: shape {shape_label(d)} gives output {tuple(y.shape)}, "
                         f"expected {(d['N'], d['K'], d['P'], d['Q'])}")
    kernels = {
        'forward': lambda: F.conv2d(x, w, None, stride=stride, padding=padding),
        'backward-input': lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, stride=stride, padding=padding),
        'backward-weight': lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, stride=stride, padding=padding),
    }
    rows = []
    with torch.no_grad():
        for name, fn in kernels.items():
            med, mn = time_fn(fn, warmup, repeats)
            rows.append({
                'shape': shape_label(d), 'kernel': name, 'medianMs': med, 'minMs': mn,
                'gflops': flops(d) / (med * 1e6),
            })
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shapes', help='JSON file with the shape list (default: stdin)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--no-malloc-tuning', action='store_true',
                    help='keep glibc malloc defaults (outputs page-faulted in on every call)')
    args = ap.parse_args()
    if not args.no_malloc_tuning and 'MALLOC_MMAP_THRESHOLD_' not in os.environ:
        env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='33554432', MALLOC_TRIM_THRESHOLD_='17179869184')
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    if args.threads < 1 or args.repeats < 1 or args.warmup < 0:
        raise SystemExit('pytorch_conv.py: --threads and --repeats must be >= 1, --warmup >= 0')
    src = open(args.shapes) if args.shapes else sys.stdin
    data = json.load(src)
    shapes = data['shapes'] if isinstance(data, dict) else data
    torch.set_num_threads(args.threads)
    rows = []
    for d in shapes:
        rows.extend(bench_shape(d, args.warmup, args.repeats))
    out = {
        'machine': {
            'platform': platform.platform(), 'processor': platform.processor(),
            'torch': torch.__version__, 'mkldnn': torch.backends.mkldnn.is_available(),
            'python': platform.python_version(),
            'malloc': 'MALLOC_MMAP_THRESHOLD_=' + os.environ.get('MALLOC_MMAP_THRESHOLD_', 'default'),
        },
        'threads': torch.get_num_threads(),
        'rows': rows,
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
