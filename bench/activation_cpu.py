"""Activations forward + backward on the CPU at ResNet-sized float32 activations (16 x 64 x 32 x
32 = 1M floats, and a 64K-float one): engine against torch in the same run, interleaved (noise
hits both), same thread count. Prints median ms and engine/torch per activation; "numpy" is
engine with its native activation loops switched off (the numpy expressions they replaced).
Not a test.

    python bench/activation_cpu.py [--repeats 7] [--threads T]
"""
import argparse

import numpy as np
from _timing import interleaved_median_ms, same_threads

SHAPES = [(16, 64, 32, 32), (16, 64, 8, 8)]
ACTIVATIONS = ["relu", "sigmoid", "leaky_relu", "silu"]


def engine_step(name, x_np, dy_np, native=True):
    import engine as mge
    import engine.functional as F
    from engine.autodiff import GradManager
    from engine.ops import nn

    fn = {"relu": F.relu, "sigmoid": F.sigmoid, "silu": F.silu,
          "leaky_relu": lambda t: F.leaky_relu(t, 0.1)}[name]
    x, dy = mge.tensor(x_np), mge.tensor(dy_np)
    gm = GradManager().attach(x)

    saved = getattr(nn, "_C", None)  # (older trees without native activations: numpy)

    def step():
        nn._C = saved if native else None
        try:
            with gm:
                gm.backward(fn(x), dy)
        finally:
            nn._C = saved
        x.grad = None
    return step


def torch_step(name, x_np, dy_np):
    import torch

    fn = {"relu": torch.relu, "sigmoid": torch.sigmoid, "silu": torch.nn.functional.silu,
          "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.1)}[name]
    x = torch.tensor(x_np, requires_grad=True)
    dy = torch.tensor(dy_np)

    def step():
        fn(x).backward(dy)
        x.grad = None
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="0: the engine's default")
    args = ap.parse_args()
    threads = same_threads(args.threads)
    print(f"threads: {threads} (engine and torch); fwd + bwd, float32")
    print(f"{'activation':11s} {'shape':>18s} {'engine ms':>10s} {'numpy ms':>9s} "
          f"{'torch ms':>9s} {'engine/torch':>13s} {'numpy/torch':>12s}")
    ratios = []
    rng = np.random.default_rng(0)
    for shape in SHAPES:
        x = rng.standard_normal(shape).astype(np.float32)
        dy = rng.standard_normal(shape).astype(np.float32)
        iters = max(1, int(4e6 // x.size))
        for name in ACTIVATIONS:
            med = interleaved_median_ms({"engine": engine_step(name, x, dy),
                                         "numpy": engine_step(name, x, dy, native=False),
                                         "torch": torch_step(name, x, dy)}, args.repeats, iters)
            e, t, n = med["engine"], med["torch"], med["numpy"]
            ratios.append(e / t)
            print(f"{name:11s} {str(shape):>18s} {e:10.3f} {n:9.3f} {t:9.3f} {e / t:12.2f}x "
                  f"{n / t:11.2f}x")
    print(f"geometric mean engine/torch: {float(np.exp(np.mean(np.log(ratios)))):.2f}x")


if __name__ == "__main__":
    main()
