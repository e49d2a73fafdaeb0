"""Optimizer step time on a ResNet-18-sized parameter list (62 tensors, 11.7M floats): engine's
SGD-momentum and Adam against torch.optim in the same run (median ms per step, interleaved so
machine noise hits every peer alike). Also the engine update without the fused native kernel
(numpy ops), to show what the kernel buys. Not a test.

    python bench/optim_step.py [--repeats R]
"""
import argparse
import statistics
import time

import numpy as np


def resnet18_shapes():
    """Parameter shapes of torchvision's resnet18 (conv weights, BN (C,), fc)."""
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            first_in = cin if block == 0 else cout
            shapes += [(cout, first_in, 3, 3), (cout,), (cout,), (cout, cout, 3, 3), (cout,),
                       (cout,)]
            if block == 0 and (stride != 1 or cin != cout):
                shapes += [(cout, cin, 1, 1), (cout,), (cout,)]
        cin = cout
    return shapes + [(1000, 512), (1000,)]


def engine_step(name, shapes, grads, native=True):
    import engine as mge
    import engine.optimizer as optim
    from engine.optimizer import _inplace

    params = [mge.Parameter(np.random.randn(*s).astype("float32")) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = mge.Tensor(g)
    opt = (optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4) if name == "sgd"
           else optim.Adam(params, lr=1e-3, weight_decay=1e-4))
    saved = _inplace._C

    def step():
        _inplace._C = saved if native else None
        try:
            opt.step()
        finally:
            _inplace._C = saved
    return step


def torch_step(name, shapes, grads):
    import torch

    params = [torch.randn(*s, requires_grad=True) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    opt = (torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4) if name == "sgd"
           else torch.optim.Adam(params, lr=1e-3, weight_decay=1e-4))

    def step():
        with torch.no_grad():
            opt.step()
    return step


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    shapes = resnet18_shapes()
    n = sum(int(np.prod(s)) for s in shapes)
    print(f"{len(shapes)} tensors, {n / 1e6:.1f}M floats")
    grads = [np.random.randn(*s).astype("float32") for s in shapes]
    for name in ("sgd", "adam"):
        peers = {"engine": engine_step(name, shapes, grads),
                 "engine-numpy": engine_step(name, shapes, grads, native=False),
                 "torch": torch_step(name, shapes, grads)}
        for step in peers.values():  # warm-up: first-touch page faults, lazy state
            step()
        samples = {k: [] for k in peers}
        for _ in range(args.repeats):
            for k, step in peers.items():
                samples[k].append(timed(step))
        ms = {k: statistics.median(v) for k, v in samples.items()}
        for k, v in ms.items():
            ratio = "" if k == "torch" else f"   {k}/torch = {v / ms['torch']:.2f}x"
            print(f"{name:5s} {k:13s} {v:8.2f} ms per step{ratio}")


if __name__ == "__main__":
    main()
