"""A custom autograd op with engine.autodiff.Function, as in MegEngine's tutorial: a
straight-through estimator (round in the forward pass, identity gradient in the backward pass)
that lets a tiny model learn with quantized weights, and a Swish whose hand-written gradient is
checked against the tape's.

    python examples/custom_function.py [--steps 200]
"""
import argparse

import numpy as np

import engine as mge
import engine.functional as F
from engine.autodiff import Function, GradManager


class RoundSTE(Function):
    """round(x / step) * step forward; the gradient passes straight through."""

    def __init__(self, step):
        super().__init__()
        self.step = step

    def forward(self, x):
        return F.round(x / self.step) * self.step

    def backward(self, dy):
        return dy


class Swish(Function):
    """x * sigmoid(x) with a hand-written gradient that reuses the saved sigmoid."""

    def forward(self, x):
        self.x, self.s = x, F.sigmoid(x)
        return x * self.s

    def backward(self, dy):
        s = self.s
        return dy * (s + self.x * s * (1 - s))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (256, 4)).astype("float32")
    y = (x @ np.array([0.5, -1.0, 0.25, 2.0], "float32"))[:, None]
    w = mge.Parameter(rng.standard_normal((4, 1)).astype("float32") * 0.1)
    gm = GradManager().attach(w)
    xt, yt = mge.tensor(x), mge.tensor(y)
    losses = []
    for _ in range(args.steps):
        with gm:
            pred = F.matmul(xt, RoundSTE(0.25)(w))  # the weights quantized to steps of 0.25
            loss = F.mean((pred - yt) ** 2)
            gm.backward(loss)
        w -= 0.05 * w.grad
        w.grad = None
        losses.append(loss.item())
    q = RoundSTE(0.25)(w).numpy().ravel()
    print(f"quantized weights {np.round(q, 2).tolist()}")
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")

    # Swish's hand-written gradient against the tape's gradient of the same formula
    v = mge.tensor(rng.uniform(-4, 4, 100).astype("float32"))
    gm = GradManager().attach(v)
    with gm:
        gm.backward(Swish()(v).sum())
    custom = v.grad.numpy()
    v.grad = None
    with gm:
        gm.backward((v * F.sigmoid(v)).sum())
    print(f"swish gradient max difference {np.abs(custom - v.grad.numpy()).max():.2e}")


if __name__ == "__main__":
    main()
