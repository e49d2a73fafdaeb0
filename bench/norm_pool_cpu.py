"""BatchNorm (training) and 3x3/2 max-pool forward+backward at ResNet shapes on the CPU: median
milliseconds per step, engine against torch in the same run, interleaved (noise hits both), with
the same thread count. Not a test.

    python bench/norm_pool_cpu.py [--batch 16] [--repeats 7] [--threads T]
"""
import argparse

import numpy as np
from _timing import interleaved_median_ms, same_threads

# (channels, spatial) along the stages of a small-input ResNet: 32 channels at 64x64 down to 256
# at 8x8.
SHAPES = [(32, 64), (64, 32), (128, 16), (256, 8)]


def engine_steps(x_np):
    import engine as mge
    import engine.functional as F
    from engine.autodiff import GradManager

    c = x_np.shape[1]
    x = mge.tensor(x_np)
    w = mge.tensor(np.ones((1, c, 1, 1), np.float32))
    b = mge.tensor(np.zeros((1, c, 1, 1), np.float32))
    rm, rv = mge.tensor(np.zeros((1, c, 1, 1))), mge.tensor(np.ones((1, c, 1, 1)))
    dy_bn = mge.tensor(np.random.default_rng(1).standard_normal(x_np.shape).astype(np.float32))
    gm = GradManager().attach([x, w, b])

    def bn():
        with gm:
            y = F.batch_norm(x, rm, rv, w, b, training=True)
            gm.backward(y, dy_bn)
        x.grad = w.grad = b.grad = None

    def pool():
        with gm:
            y = F.max_pool2d(x, 3, 2, 1)
            gm.backward(y, F.ones_like(y))
        x.grad = None

    return bn, pool


def torch_steps(x_np):
    import torch

    c = x_np.shape[1]
    x = torch.tensor(x_np, requires_grad=True)
    w = torch.ones(c, requires_grad=True)
    b = torch.zeros(c, requires_grad=True)
    rm, rv = torch.zeros(c), torch.ones(c)
    dy_bn = torch.tensor(np.random.default_rng(1).standard_normal(x_np.shape).astype(np.float32))

    def bn():
        y = torch.nn.functional.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1)
        y.backward(dy_bn)
        x.grad = w.grad = b.grad = None

    def pool():
        y = torch.nn.functional.max_pool2d(x, 3, 2, 1)
        y.backward(torch.ones_like(y))
        x.grad = None

    return bn, pool


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="0: the engine's default")
    args = ap.parse_args()
    threads = same_threads(args.threads)
    print(f"threads: {threads} (engine and torch); batch {args.batch}")
    print(f"{'op':9s} {'shape':>20s} {'engine ms':>10s} {'torch ms':>9s} {'engine/torch':>13s}")
    ratios = []
    for c, hw in SHAPES:
        x = np.random.default_rng(0).standard_normal((args.batch, c, hw, hw)).astype(np.float32)
        iters = max(1, int(2e6 // x.size))
        ours, theirs = engine_steps(x), torch_steps(x)
        for k, name in enumerate(("batchnorm", "maxpool")):
            med = interleaved_median_ms({"engine": ours[k], "torch": theirs[k]}, args.repeats,
                                        iters)
            e, t = med["engine"], med["torch"]
            ratios.append(e / t)
            print(f"{name:9s} {str(x.shape):>20s} {e:10.2f} {t:9.2f} {e / t:12.2f}x")
    geo = float(np.exp(np.mean(np.log(ratios))))
    print(f"geometric mean engine/torch: {geo:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
