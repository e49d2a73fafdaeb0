"""All-reduce bus bandwidth: engine's F.distributed.all_reduce_sum on Tensors against MPI's own
(mpi4py Allreduce on preallocated numpy buffers) in the same job, 4 KB to 256 MB. Not a test.

    python bench/dist_allreduce.py [--ranks 2] [--max-mb 256] [--repeats 7]

Bus bandwidth is NCCL's convention: 2 (n - 1) / n * bytes / time, what each rank's links
carry. engine's figure includes what a framework does per call: the ranks' agreement check
(one small Allreduce), a new output array and the Tensor around it.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def worker(sizes, repeats):
    from mpi4py import MPI

    import engine as mge
    import engine.distributed as dist
    import engine.functional as F

    n = dist.get_world_size()
    comm = MPI.COMM_WORLD
    rows = []
    for nbytes in sizes:
        count = nbytes // 4
        x = mge.tensor(np.ones(count, np.float32))
        send, recv = np.ones(count, np.float32), np.empty(count, np.float32)
        iters = max(1, min(200, (8 << 20) // nbytes))

        def engine_step():
            for _ in range(iters):
                F.distributed.all_reduce_sum(x)

        def mpi_step():
            for _ in range(iters):
                comm.Allreduce(send, recv)

        samples = {"engine": [], "mpi4py": []}
        for step in (engine_step, mpi_step):
            step()  # warm up
        for _ in range(repeats):  # interleaved: noise hits both alike
            for name, step in (("engine", engine_step), ("mpi4py", mpi_step)):
                dist.group_barrier()
                t0 = time.perf_counter()
                step()
                samples[name].append((time.perf_counter() - t0) / iters)
        # the slowest rank's time is the collective's time
        med = {k: max(comm.allgather(statistics.median(v))) for k, v in samples.items()}
        rows.append((nbytes, med["engine"], med["mpi4py"]))
    bus = 2 * (n - 1) / n
    return [(b, bus * b / te / 1e9, bus * b / tm / 1e9) for b, te, tm in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--max-mb", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    import engine.distributed as dist

    sizes = [4 << 10]
    while sizes[-1] * 4 <= args.max_mb << 20:
        sizes.append(sizes[-1] * 4)
    rows = dist.launcher(n_gpus=args.ranks, device_type="cpu")(worker)(sizes, args.repeats)[0]
    print(f"all_reduce_sum float32, {args.ranks} ranks on this host "
          f"(OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r})")
    print(f"{'size':>9s} {'engine GB/s':>12s} {'mpi4py GB/s':>12s} {'engine/mpi4py':>14s}")
    ratios = []
    for nbytes, be, bm in rows:
        label = f"{nbytes >> 20} MB" if nbytes >= 1 << 20 else f"{nbytes >> 10} KB"
        ratios.append(be / bm)
        print(f"{label:>9s} {be:12.2f} {bm:12.2f} {be / bm:13.2f}x")
    print(f"geomean engine/mpi4py = {float(np.exp(np.mean(np.log(ratios)))):.2f}x "
          f"(goal >= 0.90x)")


if __name__ == "__main__":
    main()
