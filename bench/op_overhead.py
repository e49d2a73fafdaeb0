"""Per-op dispatch overhead: median microseconds of `u = u + v` on 4-element float32 tensors,
engine against torch (and MegEngine when installed) in the same run. Not a test.

    python bench/op_overhead.py [--iters N] [--repeats R]
"""
import argparse
import statistics
import time

import numpy as np


def per_op_us(make, iters, repeats):
    """Median over `repeats` timings of `iters` chained adds, in microseconds per add."""
    u, v = make()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            u = u + v
        samples.append((time.perf_counter() - t0) / iters * 1e6)
        u, v = make()
    return statistics.median(samples)


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
    results = {name: per_op_us(make, args.iters, args.repeats) for name, make in peers()}
    base = results["engine"]
    for name, us in results.items():
        ratio = "" if name == "engine" else f"   engine/{name} = {base / us:.2f}x"
        print(f"{name:10s} {us:7.2f} us per `u = u + v` (4 floats){ratio}")
    print("target: engine <= 5 us")


if __name__ == "__main__":
    main()
