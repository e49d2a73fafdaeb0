"""DTR (mge.dtr) under memory budgets: time against the same model without DTR, and the largest
batch that fits a fixed budget with and without DTR. Not a test.

    python bench/dtr.py [--model resnet|fcos|both] [--steps 3] [--budgets 100,70,50,35]

For each model the no-DTR peak of live bytes over one training step (parameters, optimizer
state, gradients and activations: what the allocator counts) is measured first; then each budget
is a fraction of that peak, given as eviction_threshold, and DTR-on steps are timed interleaved
with DTR-off steps of the same model and batch (the peer of this benchmark: torch has no DTR and
MegEngine is not installable here). A step fits a budget when its peak stays within it (DTR
never had to go over the threshold for lack of something to evict).

Models: the ResNet of bench/train_step_cpu.py (batch 16, 64x64) and FCOS-R18 of the built-in
shapes config (batch 4, 256x256; `--model fcos`). Goals (issue 6): time <= 1.05x with a loose
budget, <= 1.10x at 50%, <= 1.30x at 35%; at least 2x the batch at the same budget.
"""
import argparse
import gc

import numpy as np
from _timing import interleaved_median_ms

import engine as mge


def resnet_factory(batch, seed=0):
    from train_step_cpu import engine_step_fn

    mge.random.seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 3, 64, 64)).astype("float32")
    y = rng.integers(0, 10, batch).astype("int32")
    return engine_step_fn(x, y)


def fcos_factory(batch, seed=0, size=256):
    from det_step import detector_step_fn, make_batch

    from det.models.defaults import fcos_r18_shapes

    mge.random.seed(seed)
    images, boxes, labels = make_batch(batch, size, np.random.default_rng(seed), num_classes=3)
    return detector_step_fn(fcos_r18_shapes(num_classes=3), images, boxes, labels)


MODELS = {"resnet": (resnet_factory, 16), "fcos": (fcos_factory, 4)}


def with_dtr(step, threshold):
    def run():
        mge.dtr(eviction_threshold=threshold, evictee_minimum_size="64KB")
        try:
            return step()
        finally:
            mge.dtr.disable()
    return run


def step_peak(step):
    """Peak live bytes over one call of step()."""
    gc.collect()
    mge.reset_max_memory_stats()
    step()
    return mge.get_max_allocated_memory()


def fits(factory, batch, budget, dtr):
    """Whether a training step at `batch` stays within `budget` live bytes (the second step:
    the first also creates the optimizer state, as in bench())."""
    gc.collect()
    held = mge.get_allocated_memory()  # by others (none, when bench() released its model)
    step = factory(batch)
    run = with_dtr(step, held + budget) if dtr else step
    run()
    mge.dtr.reset_stats()
    return step_peak(run) - held <= budget and mge.dtr.stats()["over_budget"] == 0


def largest_batch(factory, base, budget, dtr, limit=8):
    """The largest multiple of base/2 (up to limit x base) whose steps fit budget."""
    best, b = 0, base // 2
    while b <= limit * base:
        if not fits(factory, b, budget, dtr):
            break
        best, b = b, b + base // 2 if b < base else b + base
    return best


def bench(name, args):
    factory, batch = MODELS[name]
    step = factory(batch)
    step()  # optimizer state exists from here on
    peak = step_peak(step)
    gc.collect()
    fixed = mge.get_allocated_memory()  # parameters, optimizer state, the input batch
    print(f"\n{name}: batch {batch}, no-DTR peak {peak / 2**20:.1f} MiB, of which "
          f"{fixed / 2**20:.1f} MiB stay between steps (parameters, optimizer state, data)")
    print(f"{'budget':>8s} {'MiB':>8s} {'no DTR ms':>10s} {'DTR ms':>10s} {'DTR/none':>9s} "
          f"{'evictions':>10s} {'recomputes':>11s} {'peak MiB':>9s}")
    for pct in args.budgets:
        threshold = int(peak * pct / 100)
        dtr_step = with_dtr(step, threshold)
        med = interleaved_median_ms({"off": step, "on": dtr_step}, args.steps, warmup=1)
        mge.dtr.reset_stats()
        got = step_peak(dtr_step)
        st = mge.dtr.stats()
        over = " (over budget)" if st["over_budget"] else ""
        print(f"{pct:7d}% {threshold / 2**20:8.1f} {med['off']:10.1f} {med['on']:10.1f} "
              f"{med['on'] / med['off']:8.2f}x {st['evictions']:10d} {st['recomputations']:11d} "
              f"{got / 2**20:9.1f}{over}")
    del step, dtr_step
    if args.batch_search:
        no_dtr = largest_batch(factory, batch, peak, dtr=False)
        on = largest_batch(factory, batch, peak, dtr=True)
        print(f"largest batch within {peak / 2**20:.1f} MiB: no DTR {no_dtr}, DTR {on} "
              f"({on / max(no_dtr, 1):.2f}x; goal >= 2x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="resnet", choices=["resnet", "fcos", "both"])
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--budgets", default="100,70,50,35",
                    type=lambda s: [int(p) for p in s.split(",")])
    ap.add_argument("--no-batch-search", dest="batch_search", action="store_false")
    args = ap.parse_args()
    for name in (["resnet", "fcos"] if args.model == "both" else [args.model]):
        bench(name, args)


if __name__ == "__main__":
    main()
