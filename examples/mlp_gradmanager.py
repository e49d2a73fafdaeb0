"""A MegEngine 1.x style training script: change `import engine as mge` back to
`import megengine as mge` (and the two other imports) and it runs on MegEngine unchanged.

A two-layer MLP learns to classify points of three interleaved spirals, with GradManager for
the gradients and a hand-written SGD update. Exits with status 1 if the loss does not fall.
"""
import argparse
import time

import numpy as np

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager


def spirals(n_per_class, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    xs, ys = [], []
    for c in range(n_classes):
        r = np.linspace(0.05, 1, n_per_class)
        t = np.linspace(c * 4, (c + 1) * 4, n_per_class) + rng.randn(n_per_class) * 0.2
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs).astype("float32"), np.concatenate(ys).astype("int32")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args()

    mge.random.seed(0)
    data, label = spirals(200)
    x, y = mge.tensor(data), mge.tensor(label)

    w1 = mge.Parameter(mge.random.normal(0, 1, (2, args.hidden)))
    b1 = mge.Parameter(np.zeros(args.hidden, dtype="float32"))
    w2 = mge.Parameter(mge.random.normal(0, 0.1, (args.hidden, 3)))
    b2 = mge.Parameter(np.zeros(3, dtype="float32"))
    params = [w1, b1, w2, b2]
    gm = GradManager().attach(params)

    start = time.time()
    first = None
    for step in range(args.steps):
        with gm:
            hidden = F.relu(F.matmul(x, w1) + b1)
            logits = F.matmul(hidden, w2) + b2
            loss = F.nn.cross_entropy(logits, y)
            gm.backward(loss)
        for p in params:  # plain SGD, in place
            p -= args.lr * p.grad
            p.grad = None
        first = loss.item() if first is None else first
        if step % 100 == 0 or step == args.steps - 1:
            acc = (F.argmax(logits, axis=1) == y).astype("float32").mean().item()
            print(f"step {step:4d}  loss {loss.item():.4f}  train acc {acc:.3f}")

    final = loss.item()
    print(f"loss {first:.4f} -> {final:.4f} in {time.time() - start:.1f}s")
    if not final < 0.5 * first:
        print("FAILED: the loss did not fall")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
