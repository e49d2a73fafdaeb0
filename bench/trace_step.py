"""Traced training steps against eager ones and torch, in the same run. Not a test.

Two models, each a whole step (forward, backward, SGD with momentum) per call:
    resnet  bench/train_step_cpu.py's ResNet (basic blocks 2-2-2-2, widths 32-256), batch 16,
            64x64: kernel-bound, where a trace can win only memory and dispatch
    mlp     16 Linear+ReLU layers of width 64, batch 8: op-heavy, framework overhead dominates
Peers:
    eager   the Python step
    traced  trace(step, without_host=True): the recorded forward + backward + optimizer step
            replayed on arrays (engine/jit/program.py)
    sublin  the same with sublinear_memory_config: cheap values recomputed at their late uses
            (engine/jit/sublinear.py)
    torch   the same model and step in torch, eager
Prints ms per step and ratios, then each step's peak of traced host memory (tracemalloc, which
sees numpy's and engine's array allocations) eager vs traced. The traced and eager steps are
first checked to give the same losses bit for bit.

    python bench/trace_step.py [--repeats R] [--threads N]
"""
import argparse
import tracemalloc

import numpy as np
from _timing import interleaved_median_ms, same_threads
from train_step_cpu import engine_resnet, torch_resnet, torch_step_fn

LAYERS, WIDTH, BATCH = 16, 64, 8


def engine_mlp():
    import engine.functional as F
    import engine.module as M

    class MLP(M.Module):
        def __init__(self):
            super().__init__()
            self.layers = [M.Linear(WIDTH, WIDTH) for _ in range(LAYERS)]
            self.head = M.Linear(WIDTH, 10)

        def forward(self, x):
            for lin in self.layers:
                x = F.relu(lin(x))
            return self.head(x)

    return MLP()


def torch_mlp():
    import torch.nn as nn

    layers = []
    for _ in range(LAYERS):
        layers += [nn.Linear(WIDTH, WIDTH), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(WIDTH, 10))


def engine_steps(make, x_np, y_np, seed=0):
    """(eager, traced, sublinear) steps on three copies of one model (same initial weights)."""
    import engine as mge
    import engine.functional as F
    import engine.optimizer as optim
    from engine.autodiff import GradManager
    from engine.jit import SublinearMemoryConfig, trace

    steps = []
    for traced in (None, {}, {"sublinear_memory_config": SublinearMemoryConfig()}):
        mge.random.seed(seed)
        model = make()
        model.train()
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        gm = GradManager().attach(model.parameters())

        def step(x, y, model=model, opt=opt, gm=gm):
            with gm:
                loss = F.nn.cross_entropy(model(x), y)
                gm.backward(loss)
            opt.step().clear_grad()
            return loss

        run = step if traced is None else trace(step, without_host=True, **traced)
        x, y = mge.tensor(x_np), mge.tensor(y_np)
        steps.append(lambda run=run, x=x, y=y: run(x, y).item())
    return steps


def peak_bytes(step):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0, help="0: engine's default")
    args = ap.parse_args()
    threads = same_threads(args.threads)
    rng = np.random.default_rng(0)
    cases = {
        "resnet": (engine_resnet, torch_resnet,
                   rng.standard_normal((16, 3, 64, 64)).astype("float32"),
                   rng.integers(0, 10, 16).astype("int32"), 1),
        "mlp": (engine_mlp, torch_mlp, rng.standard_normal((BATCH, WIDTH)).astype("float32"),
                rng.integers(0, 10, BATCH).astype("int32"), 50),
    }
    print(f"{threads} thread(s)")
    for name, (make, make_torch, x_np, y_np, iters) in cases.items():
        eager, traced, sublin = engine_steps(make, x_np, y_np)
        losses = [(eager(), traced(), sublin()) for _ in range(3)]  # recording, two replays
        assert all(a == b == c for a, b, c in losses), f"{name}: traced losses differ: {losses}"
        tstep = torch_step_fn(x_np, y_np, make_torch)

        def many(f, n=iters):
            def run():
                for _ in range(n):
                    f()
            return run

        ms = interleaved_median_ms({"eager": many(eager), "traced": many(traced),
                                    "sublin": many(sublin), "torch": many(tstep)}, args.repeats)
        print(f"\n{name}: ms per step (median of {args.repeats}, {iters} step(s) each)")
        for peer, t in ms.items():
            print(f"  {peer:7s}{t / iters:9.2f} ms {t / ms['eager']:7.2f}x eager "
                  f"{t / ms['torch']:7.2f}x torch")
        pe, pt, ps = peak_bytes(eager), peak_bytes(traced), peak_bytes(sublin)
        print(f"  peak host memory in a step: eager {pe / 2**20:.1f} MiB, traced "
              f"{pt / 2**20:.1f} MiB ({pt / pe:.2f}x), sublin {ps / 2**20:.1f} MiB "
              f"({ps / pe:.2f}x)")


if __name__ == "__main__":
    main()
