"""Conv2d forward + backward (input and weight grads) on the CPU for the conv shapes of a
ResNet-18-like network (widths 32-64-128-256, batch 16, 64x64 input): engine against torch in the
same run, interleaved repeats, median times and the ratio engine/torch per shape. Not a test.

    python bench/conv_cpu.py [--repeats R] [--batch N] [--threads T] [--profile]

--threads sets the threads of all three pools (torch, numpy's OpenBLAS, engine's OpenMP); on a
shared machine --threads 1 gives the steadiest ratio.

--omp-wait-policy (default passive) sets OMP_WAIT_POLICY before any library loads. Why: engine's
loops run on OpenMP (libgomp) and its GEMMs on numpy's OpenBLAS, a second thread pool. With
libgomp's default (spin a few ms after each parallel region) the idle OpenMP workers spin on the
cores the next GEMM needs, and a conv step measured 5-10x slower than single-threaded on 2 cores;
with "passive" they sleep at once. torch shares the same libgomp in this process, so both peers
run under the same policy. "default" leaves the variable alone.

--profile also splits engine's time into its stages (im2col, GEMM, reorders, col2im): one pass
of each building block over the whole batch at once (engine itself works in cache-sized chunks of
samples, see engine/ops/conv_impl.py), to show roughly where the time goes.
"""
import argparse
import importlib
import os
import statistics
import time

# name, input (N, C, H, W) without N, weight (O, C, kh, kw), stride, padding
SHAPES = [
    ("stem 7x7/2", (3, 64, 64), (32, 3, 7, 7), 2, 3),
    ("l1 3x3", (32, 32, 32), (32, 32, 3, 3), 1, 1),
    ("l2 3x3/2", (32, 32, 32), (64, 32, 3, 3), 2, 1),
    ("l2 3x3", (64, 16, 16), (64, 64, 3, 3), 1, 1),
    ("l2 down 1x1/2", (32, 32, 32), (64, 32, 1, 1), 2, 0),
    ("l3 3x3/2", (64, 16, 16), (128, 64, 3, 3), 2, 1),
    ("l3 3x3", (128, 8, 8), (128, 128, 3, 3), 1, 1),
    ("l3 down 1x1/2", (64, 16, 16), (128, 64, 1, 1), 2, 0),
    ("l4 3x3/2", (128, 8, 8), (256, 128, 3, 3), 2, 1),
    ("l4 3x3", (256, 4, 4), (256, 256, 3, 3), 1, 1),
    ("l4 down 1x1/2", (128, 8, 8), (256, 128, 1, 1), 2, 0),
    ("1x1 (no im2col)", (64, 16, 16), (64, 64, 1, 1), 1, 0),
]
# how many times each shape runs in one ResNet-18 step (for the weighted total)
COUNT = {"l1 3x3": 4, "l2 3x3": 3, "l3 3x3": 3, "l4 3x3": 3, "1x1 (no im2col)": 0}


def engine_step(x, w, dy, stride, padding):
    import engine as mge
    import engine.functional as F
    from engine.autodiff import GradManager

    xt, wt, dyt = mge.tensor(x), mge.tensor(w), mge.tensor(dy)

    def run():
        gm = GradManager().attach([xt, wt])
        with gm:
            y = F.conv2d(xt, wt, stride=stride, padding=padding)
            gm.backward(y, dyt)
        xt.grad = wt.grad = None
    return run


def torch_step(x, w, dy, stride, padding):
    import torch

    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    dyt = torch.tensor(dy)

    def run():
        y = torch.nn.functional.conv2d(xt, wt, stride=stride, padding=padding)
        y.backward(dyt)
        xt.grad = wt.grad = None
    return run


def seconds(fn, inner=3):
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def profile(x, w, dy, stride, padding):
    """Milliseconds per stage of engine's forward + backward, from conv_impl's building blocks."""
    import numpy as np

    from engine._native import native
    from engine.ops.conv_impl import ConvParams

    C = native()
    p = ConvParams((stride,) * 2, (padding,) * 2, (1, 1), 1)
    kernel, n, o = w.shape[2:], x.shape[0], w.shape[0]
    stages = {}

    def timed(name, f):
        t0 = time.perf_counter()
        out = f()
        stages[name] = stages.get(name, 0.0) + (time.perf_counter() - t0) * 1e3
        return out

    w2 = w.reshape(1, o, -1)
    for _ in range(2):  # forward im2col, backward-filter im2col
        col = timed("im2col", lambda: C.conv_im2col(x, **p.window(kernel)))
    y = timed("gemm", lambda: np.matmul(w2, col))
    timed("reorder", lambda: C.conv_to_batch_major(y, n, None))
    dyg = timed("reorder", lambda: C.conv_to_group_major(dy.reshape(n, o, -1), 1))
    timed("reorder", lambda: C.conv_to_group_major(dy.reshape(n, o, -1), 1))
    timed("gemm", lambda: np.matmul(dyg, col.transpose(0, 2, 1)))
    dcol = timed("gemm", lambda: np.matmul(w2.transpose(0, 2, 1), dyg))
    timed("col2im", lambda: C.conv_col2im(dcol, x.shape, **p.window(kernel)))
    return stages


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0, help="0: each library's default")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--omp-wait-policy", choices=("passive", "active", "default"),
                    default="passive")
    args = ap.parse_args()
    if args.omp_wait_policy != "default":  # read once, when libgomp loads
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy.upper()
    if args.threads:  # before numpy / torch load their thread pools
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import numpy as np

    import engine  # before torch, so libgomp starts with engine's settings as in an engine script

    torch = importlib.import_module("torch")
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    print(f"threads: torch {torch.get_num_threads()}, engine._C "
          f"{engine._native.native().get_num_threads()}; "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    print(f"{'shape':18s} {'engine ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    tot_e = tot_t = 0.0
    for name, chw, wshape, stride, padding in SHAPES:
        x = rng.standard_normal((args.batch,) + chw).astype(np.float32)
        w = rng.standard_normal(wshape).astype(np.float32) * 0.1
        oh = (chw[1] + 2 * padding - wshape[2]) // stride + 1
        dy = rng.standard_normal((args.batch, wshape[0], oh, oh)).astype(np.float32)
        peers = {"engine": engine_step(x, w, dy, stride, padding),
                 "torch": torch_step(x, w, dy, stride, padding)}
        for fn in peers.values():  # warm-up: allocations, thread pools, BLAS buffers
            fn()
        samples = {k: [] for k in peers}
        for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
            for k, fn in peers.items():
                samples[k].append(seconds(fn))
        e, t = (statistics.median(samples[k]) * 1e3 for k in ("engine", "torch"))
        tot_e += e * COUNT.get(name, 1)
        tot_t += t * COUNT.get(name, 1)
        line = f"{name:18s} {e:10.2f} {t:10.2f} {e / t:6.2f}x"
        if args.profile:
            stages = profile(x, w, dy, stride, padding)
            line += "   " + "  ".join(f"{k} {v:.1f}" for k, v in stages.items())
        print(line)
    print(f"{'ResNet-18 convs':18s} {tot_e:10.2f} {tot_t:10.2f} {tot_e / tot_t:6.2f}x   "
          "(each shape weighted by its count in the network)")
    print("target: engine/torch <= 1.5x for a training step (goal 1.0x)")


if __name__ == "__main__":
    main()
