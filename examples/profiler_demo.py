"""Profile a few training steps with engine.utils.profiler.Profiler and print the ops that took
the most time; the timeline (<out>/<pid>.chrome_timeline.json) opens in https://ui.perfetto.dev.

    python examples/profiler_demo.py [--steps 3] [--out profile]
"""
import argparse
import collections
import json

import numpy as np

import engine as mge
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine.autodiff import GradManager
from engine.utils.profiler import Profiler, scope


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--out", default="profile")
    args = ap.parse_args()
    net = M.Sequential(M.Conv2d(3, 8, 3, padding=1), M.BatchNorm2d(8), M.ReLU(),
                       M.AdaptiveAvgPool2d(1))
    head = M.Linear(8, 4)
    params = list(net.parameters()) + list(head.parameters())
    gm = GradManager().attach(params)
    opt = optim.SGD(params, lr=0.1)
    rng = np.random.default_rng(0)
    x = mge.tensor(rng.standard_normal((8, 3, 16, 16)).astype("float32"))
    y = mge.tensor(rng.integers(0, 4, 8).astype("int32"))
    prof = Profiler(args.out, with_scopes=True)
    with prof:
        for _ in range(args.steps):
            with scope("step"), gm:
                loss = F.nn.cross_entropy(head(F.flatten(net(x), 1)), y)
                gm.backward(loss)
            opt.step().clear_grad()
            prof.step()
    with open(prof.path) as f:
        events = json.load(f)["traceEvents"]
    per_op = collections.Counter()
    for e in events:
        if e.get("cat") == "op":
            per_op[e["name"]] += e["dur"]
    print(f"timeline: {prof.path} ({len(events)} events)")
    for name, us in per_op.most_common(5):
        print(f"{name:20s} {us / 1000:8.2f} ms")


if __name__ == "__main__":
    main()
