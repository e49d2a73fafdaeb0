"""Per-op dispatch overhead: median microseconds of `u = u + v` on 4-element float32 tensors,
engine against torch (and MegEngine when installed) in the same run. Not a test.

    python bench/op_overhead.py [--iters N] [--repeats R]
"""
import argparse
import statistics
import time

import numpy as np


def time_adds(make, iters):
    """Microseconds per `u = u + v`, over `iters` chained adds."""
    u, v = make()
    t0 = time.perf_counter()
    for _ in range(iters):
        u = u + v
    return (time.perf_counter() - t0) / iters * 1e6


def peers():
    import engine as mge

    yield "engine", lambda: (mge.tensor(np.zeros(4, "float32")), mge.tensor(np.ones(4, "float32")))
    try:
        import torch

        torch.set_num_threads(1)
        yield "torch", lambda: (torch.zeros(4), torch.ones(4))
    except ImportError:
        print("torch not installed: no peer ratio")
    try:
        import megengine

        yield "megengine", lambda: (megengine.tensor(np.zeros(4, "float32")),
                                    megengine.tensor(np.ones(4, "float32")))
    except ImportError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--iters", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    makers = dict(peers())
    samples = {name: [] for name in makers}
    for _ in range(args.repeats):  # interleaved, so machine noise hits every peer alike
        for name, make in makers.items():
            samples[name].append(time_adds(make, args.iters))
    results = {name: statistics.median(s) for name, s in samples.items()}
    base = results["engine"]
    for name, us in results.items():
        ratio = "" if name == "engine" else f"   engine/{name} = {base / us:.2f}x"
        print(f"{name:10s} {us:7.2f} us per `u = u + v` (4 floats){ratio}")
    print("target: engine <= 5 us")


if __name__ == "__main__":
    main()
