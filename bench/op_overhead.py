"""Per-op dispatch overhead on tiny tensors, engine against torch (and MegEngine when installed)
in the same run, interleaved. Each case times one eager op in a loop, so what it measures is the
framework's cost around a kernel that does almost nothing. Not a test.

Cases (engine / torch):
    add         u = u + v on 4 floats
    add_grad    y = x + w with a GradManager recording, w attached (torch: w.requires_grad)
    relu        u = F.relu(u) on 4 floats (torch.relu)
    reshape     y = x.reshape(2, 2) of 4 floats
    matmul      y = F.matmul(a, b) of two 4x4 matrices (torch.matmul)

    python bench/op_overhead.py [--iters N] [--repeats R] [--cases add,relu]
"""
import argparse
import statistics
import time

import numpy as np

CASES = ("add", "add_grad", "relu", "reshape", "matmul")


def _timed(loop, iters):
    """Microseconds per iteration of loop(iters)."""
    t0 = time.perf_counter()
    loop(iters)
    return (time.perf_counter() - t0) / iters * 1e6


# Each builder returns loop(iters) running one case `iters` times. Loops are written out per
# case (no shared callable in the loop body) so every peer pays only for its own op.
def engine_loops():
    import engine as mge
    import engine.functional as F
    from engine.autodiff import GradManager

    def t(shape, fill=0.0):
        return mge.tensor(np.full(shape, fill, "float32"))

    def add(n):
        u, v = t(4), t(4, 1.0)
        for _ in range(n):
            u = u + v

    def add_grad(n):
        x, w = t(4), t(4, 1.0)
        gm = GradManager().attach([w])
        with gm:
            for _ in range(n):
                y = x + w
        del y

    def relu(n):
        u = t(4)
        relu = F.relu
        for _ in range(n):
            u = relu(u)

    def reshape(n):
        x = t(4)
        for _ in range(n):
            x.reshape(2, 2)

    def matmul(n):
        a, b = t((4, 4)), t((4, 4), 1.0)
        matmul = F.matmul
        for _ in range(n):
            matmul(a, b)

    return dict(add=add, add_grad=add_grad, relu=relu, reshape=reshape, matmul=matmul)


def torch_loops():
    import torch

    torch.set_num_threads(1)

    def add(n):
        u, v = torch.zeros(4), torch.ones(4)
        for _ in range(n):
            u = u + v

    def add_grad(n):
        x, w = torch.zeros(4), torch.ones(4, requires_grad=True)
        for _ in range(n):
            y = x + w
        del y

    def relu(n):
        u = torch.zeros(4)
        relu = torch.relu
        for _ in range(n):
            u = relu(u)

    def reshape(n):
        x = torch.zeros(4)
        for _ in range(n):
            x.reshape(2, 2)

    def matmul(n):
        a, b = torch.zeros(4, 4), torch.ones(4, 4)
        matmul = torch.matmul
        for _ in range(n):
            matmul(a, b)

    return dict(add=add, add_grad=add_grad, relu=relu, reshape=reshape, matmul=matmul)


def megengine_loops():
    import megengine as mge
    import megengine.functional as F

    def add(n):
        u, v = mge.tensor(np.zeros(4, "float32")), mge.tensor(np.ones(4, "float32"))
        for _ in range(n):
            u = u + v

    def relu(n):
        u = mge.tensor(np.zeros(4, "float32"))
        for _ in range(n):
            u = F.relu(u)

    return dict(add=add, relu=relu)


def peers():
    yield "engine", engine_loops()
    try:
        yield "torch", torch_loops()
    except ImportError:
        print("torch not installed: no peer ratio")
    try:
        yield "megengine", megengine_loops()
    except ImportError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - set(CASES)
    if unknown:
        ap.error(f"unknown cases {sorted(unknown)}; expected some of {', '.join(CASES)}")
    loops = dict(peers())
    samples = {(p, c): [] for p, ls in loops.items() for c in cases if c in ls}
    for (p, c) in samples:  # warm up: first calls import and build caches
        loops[p][c](100)
    for _ in range(args.repeats):  # interleaved, so machine noise hits every peer alike
        for c in cases:
            for p, ls in loops.items():
                if c in ls:
                    samples[p, c].append(_timed(ls[c], args.iters))
    med = {k: statistics.median(s) for k, s in samples.items()}
    others = [p for p in loops if p != "engine"]
    print(f"{'case':10s} {'engine us':>10s} " + " ".join(f"{p + ' us':>12s}" for p in others)
          + "   " + " ".join(f"engine/{p}" for p in others))
    for c in cases:
        row = f"{c:10s} {med['engine', c]:10.2f} "
        row += " ".join(f"{med[p, c]:12.2f}" if (p, c) in med else f"{'-':>12s}" for p in others)
        row += "   " + " ".join(f"{med['engine', c] / med[p, c]:11.2f}x" if (p, c) in med
                                else f"{'-':>12s}" for p in others)
        print(row)
    print("goal (issue 13): engine/torch <= 1.2x")


if __name__ == "__main__":
    main()
