"""Fused cross-entropy forward + backward on (256, 1000) float32 logits, engine against torch in
the same run (interleaved, so machine noise hits both). Prints median milliseconds and the ratio
engine / torch (< 1: engine faster). Not a test.

    python bench/softmax_ce_cpu.py [--iters N] [--repeats R] [--threads T]
"""
import argparse

import numpy as np
from _timing import interleaved_median_ms


def engine_step(logits, labels):
    import engine as mge
    import engine.functional as F
    from engine.autodiff import GradManager

    x, y = mge.tensor(logits), mge.tensor(labels)
    gm = GradManager().attach(x)

    def step():
        with gm:
            gm.backward(F.nn.cross_entropy(x, y))
        x.grad = None
    return step


def torch_step(logits, labels):
    import torch

    x = torch.tensor(logits, requires_grad=True)
    y = torch.tensor(labels, dtype=torch.long)

    def step():
        torch.nn.functional.cross_entropy(x, y).backward()
        x.grad = None
    return step


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=0, help="0: library defaults")
    args = p.parse_args()

    import torch

    import engine as mge
    if args.threads:
        torch.set_num_threads(args.threads)
        mge._native.native().set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (256, 1000)).astype(np.float32)
    labels = rng.integers(0, 1000, 256).astype(np.int32)
    steps = {"engine": engine_step(logits, labels), "torch": torch_step(logits, labels)}
    med = interleaved_median_ms(steps, args.repeats, args.iters)
    print(f"cross_entropy fwd+bwd (256, 1000) float32, threads: engine "
          f"{mge._native.native().get_num_threads()}, torch {torch.get_num_threads()}")
    for name, ms in med.items():
        print(f"  {name:7s} {ms:8.3f} ms")
    print(f"  ratio engine/torch: {med['engine'] / med['torch']:.2f}")


if __name__ == "__main__":
    main()
