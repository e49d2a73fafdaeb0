"""Profile a few training steps with engine.utils.profiler.Profiler and read the trace back,
as in MegEngine's tutorial (change `engine` back to `megengine` to run it there).

The trace is a Chrome-trace JSON: open it at https://ui.perfetto.dev or chrome://tracing. This
script also prints the five ops with the most total time.

    python examples/profiler_demo.py [--quick] [--dir DIR]
"""
import argparse
import collections
import json
import tempfile

import numpy as np

import engine as mge
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine.autodiff import GradManager
from engine.utils.profiler import Profiler


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="two small steps (CI)")
    ap.add_argument("--dir", default=None, help="where the trace goes")
    args = ap.parse_args()
    steps, batch = (2, 8) if args.quick else (10, 64)
    net = M.Sequential(M.Conv2d(1, 8, 3, padding=1), M.ReLU(), M.MaxPool2d(2),
                       M.Conv2d(8, 16, 3, padding=1), M.ReLU(), M.AdaptiveAvgPool2d(1))
    head = M.Linear(16, 4)
    params = list(net.parameters()) + list(head.parameters())
    gm = GradManager().attach(params)
    opt = optim.SGD(params, lr=0.1)
    rng = np.random.RandomState(0)
    x = mge.tensor(rng.rand(batch, 1, 16, 16).astype("float32"))
    y = mge.tensor(rng.randint(0, 4, batch).astype("int32"))

    profiler = Profiler(args.dir or tempfile.mkdtemp(prefix="profile_"), with_scopes=True)
    with profiler:
        for _ in range(steps):
            with gm:
                loss = F.nn.cross_entropy(head(F.flatten(net(x), 1)), y)
                gm.backward(loss)
            opt.step().clear_grad()

    events = json.load(open(profiler.path))["traceEvents"]
    ops = [e for e in events if e.get("cat") == "op"]
    total = collections.Counter()
    for e in ops:
        total[e["name"]] += e["dur"]
    print("top ops by time:", ", ".join(f"{n} {us / 1000:.2f} ms" for n, us in
                                         total.most_common(5)))
    assert {"Conv2d", "Matmul"} <= set(total), sorted(total)
    print(f"trace {profiler.path}: {len(ops)} op events over {steps} steps")


if __name__ == "__main__":
    main()
