"""engine's own sgemm (engine._C.gemm) against torch (MKL/oneDNN) and numpy (its OpenBLAS) in the
same run, and against the machine's FMA peak measured by a peak loop in the same run. Not a test.

Shapes: squares 256..4096 and the GEMMs of ResNet-18 / FCOS convolutions as engine runs them
(M = output channels, N = batch * output positions, K = input channels * kh * kw), at 1 thread and
at all the process's cores. Prints GFLOP/s, the fraction of the FMA peak (goal >= 85% on large
squares) and the ratios engine/torch and engine/numpy in time (below 1 means engine is faster).

    python bench/gemm_cpu.py [--repeats R] [--max-square 4096] [--threads 1,2] [--isa avx2]

Each thread count runs in its own process with all three libraries set to it (their pools size
themselves when they load); engine and torch are interleaved, numpy timed after them.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

SQUARES = (256, 512, 1024, 2048, 4096)
# name, M, N, K
CONV_GEMMS = [
    ("r18 l1 3x3 (b16 64px)", 64, 16 * 16 * 16, 64 * 9),
    ("r18 l2 3x3", 128, 16 * 8 * 8, 128 * 9),
    ("r18 l3 3x3", 256, 16 * 4 * 4, 256 * 9),
    ("r18 stem 7x7/2", 64, 16 * 32 * 32, 3 * 49),
    ("fcos fpn 3x3 p3 (b4 400px)", 256, 4 * 50 * 50, 256 * 9),
    ("fcos head 3x3 p5", 256, 4 * 13 * 13, 256 * 9),
    ("linear 512->1000 (b64)", 64, 1000, 512),
]


def peers(threads, a, b):
    import torch

    import engine._C as C

    torch.set_num_threads(threads)
    C.set_num_threads(threads)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    out = np.empty((a.shape[0], b.shape[1]), np.float32)
    tout = torch.empty(a.shape[0], b.shape[1])
    return {
        "engine": lambda: C.gemm(a, b, out=out),
        "torch": lambda: torch.mm(ta, tb, out=tout),
        "numpy": lambda: np.matmul(a, b, out=out),
    }


def median_ms(steps, repeats, iters):
    """{peer: median ms per call}: engine and torch interleaved round by round, numpy after them
    (its OpenBLAS threads spin for up to ~0.1 s after each call and would take the cores from
    whichever peer came next)."""
    def sample(step):
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        return (time.perf_counter() - t0) / iters * 1e3

    for step in steps.values():
        step()
    samples = {name: [] for name in steps}
    for _ in range(repeats):
        for name in ("engine", "torch"):
            samples[name].append(sample(steps[name]))
    samples["numpy"] = [sample(steps["numpy"]) for _ in range(repeats)]
    time.sleep(0.2)  # numpy's threads asleep before the next shape
    return {name: statistics.median(v) for name, v in samples.items()}


def run(rows, threads, repeats):
    import engine._C as C

    peak = max(C.fma_peak_gflops(threads, 0.2) for _ in range(3))
    print(f"\n{threads} thread(s); FMA peak {peak:.0f} GFLOP/s ({C.cpu_isa()} path; "
          f"blocking {C.gemm_blocking()})")
    print(f"{'shape':30s} {'M':>5s} {'N':>6s} {'K':>5s} {'engine GF/s':>11s} {'% peak':>7s} "
          f"{'torch':>6s} {'numpy':>6s} {'e/torch':>8s} {'e/numpy':>8s}")
    rng = np.random.default_rng(0)
    for name, m, n, k in rows:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        flops = 2.0 * m * n * k
        iters = max(1, int(2e8 / flops))
        ms = median_ms(peers(threads, a, b), repeats, iters)
        gf = {p: flops / (t * 1e6) for p, t in ms.items()}
        print(f"{name:30s} {m:5d} {n:6d} {k:5d} {gf['engine']:11.0f} "
              f"{100 * gf['engine'] / peak:6.0f}% {gf['torch']:6.0f} {gf['numpy']:6.0f} "
              f"{ms['engine'] / ms['torch']:8.2f} {ms['engine'] / ms['numpy']:8.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--max-square", type=int, default=4096)
    ap.add_argument("--threads", default=None, help="comma-separated counts (default: 1 and all)")
    ap.add_argument("--isa", choices=("avx512", "avx2", "portable"), default=None)
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import engine._C as C

        if args.isa:
            C.set_cpu_isa(args.isa)
        squares = [(f"square {s}", s, s, s) for s in SQUARES if s <= args.max_square]
        run(squares + CONV_GEMMS, args.child, args.repeats)
        return
    import engine

    cores = engine._threads.usable_cores()
    counts = [int(t) for t in args.threads.split(",")] if args.threads else sorted({1, cores})
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r} "
          f"(numpy's BLAS reads it; engine's GEMM does not)")
    for t in counts:
        env = dict(os.environ, OMP_NUM_THREADS=str(t), OPENBLAS_NUM_THREADS=str(t),
                   ENGINE_NUM_THREADS=str(t), MKL_NUM_THREADS=str(t))
        cmd = [sys.executable, __file__, "--child", str(t), "--repeats", str(args.repeats),
               "--max-square", str(args.max_square)] + (["--isa", args.isa] if args.isa else [])
        subprocess.run(cmd, env=env, check=True)


if __name__ == "__main__":
    main()
