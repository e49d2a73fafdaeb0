"""engine.jit.trace against eager engine and eager torch, in the same run: an op-heavy forward
(a 16-layer MLP of width 64 on a batch of 8, ReLU between layers) where framework overhead is
most of the time. Prints ms per call and the ratios. Not a test.

    eager       the Python function, op by op
    checked     trace(f): runs the function and checks each op against the recording
    replay      trace(f, without_host=True): the recorded program on arrays, no Python of f
    torch       the same MLP in torch, eager
    kernels     the ops' own forwards (Matmul, Add, Relu .forward on numpy arrays) called
                straight, no framework: the floor under engine's three lines

Per-op overhead is a line's time per op minus the kernels' (the time spent outside the
kernels); the last table gives it for each engine line and its ratio to eager's.

    python bench/trace_overhead.py [--repeats R] [--iters N]
"""
import argparse

import numpy as np
from _timing import interleaved_median_ms, same_threads

LAYERS, WIDTH, BATCH = 16, 64, 8


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--iters", type=int, default=200)
    args = ap.parse_args()

    import torch

    import engine as mge
    import engine.functional as F
    import engine.module as M
    from engine.jit import trace

    same_threads(1)
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((WIDTH, WIDTH)).astype("float32") * 0.1 for _ in range(LAYERS)]
    x_np = rng.standard_normal((BATCH, WIDTH)).astype("float32")

    layers = [M.Linear(WIDTH, WIDTH) for _ in range(LAYERS)]
    for lin, w in zip(layers, ws):
        lin.weight._reset(mge.tensor(w))

    def forward(x):
        for lin in layers:
            x = F.relu(lin(x))
        return x

    tlayers = [torch.nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS)]
    with torch.no_grad():
        for lin, w, e in zip(tlayers, ws, layers):
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(e.bias.numpy()))

    def torch_forward(x):
        with torch.no_grad():
            for lin in tlayers:
                x = torch.relu(lin(x))
        return x

    from engine.ops.elemwise import Add
    from engine.ops.math import Matmul
    from engine.ops.nn import Relu

    warrays = [(lin.weight.numpy(), lin.bias.numpy()) for lin in layers]

    def kernels(a):
        for w, b in warrays:
            a = Relu.forward(np, Add.forward(np, Matmul.forward(np, a, w, False, True), b))
        return a

    x, tx = mge.tensor(x_np), torch.from_numpy(x_np)
    checked, replay = trace(forward), trace(forward, without_host=True)
    want = forward(x).numpy()
    for f in (checked, replay):
        np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-6)
        np.testing.assert_allclose(f(x).numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(kernels(x_np), want)

    def loop(f, a):
        def run():
            for _ in range(args.iters):
                f(a)
        return run

    ms = interleaved_median_ms({"eager": loop(forward, x), "checked": loop(checked, x),
                                "replay": loop(replay, x), "torch": loop(torch_forward, tx),
                                "kernels": loop(kernels, x_np)}, args.repeats)
    ops = 3 * LAYERS  # matmul, bias add, relu per layer
    print(f"{LAYERS}-layer MLP, width {WIDTH}, batch {BATCH}; 1 thread; {ops} ops per call")
    print(f"{'':10s}{'us per call':>12s}{'us per op':>11s}{'vs eager':>10s}{'vs torch':>10s}")
    for name, t in ms.items():
        us = t / args.iters * 1e3
        print(f"{name:10s}{us:12.1f}{us / ops:11.2f}{t / ms['eager']:9.2f}x{t / ms['torch']:9.2f}x")
    floor = ms["kernels"]
    print("\nper-op overhead (time outside the kernels)")
    print(f"{'':10s}{'us per op':>11s}{'vs eager':>10s}")
    for name in ("eager", "checked", "replay"):
        over = (ms[name] - floor) / args.iters * 1e3 / ops
        print(f"{name:10s}{over:11.2f}{(ms[name] - floor) / (ms['eager'] - floor):9.2f}x")


if __name__ == "__main__":
    main()
