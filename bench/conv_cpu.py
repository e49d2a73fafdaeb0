"""Conv2d forward + backward (input and weight grads) on the CPU for the conv shapes of a
ResNet-18-like network (widths 32-64-128-256, batch 16, 64x64 input): engine against torch in the
same run, interleaved repeats, median times and the ratio engine/torch per shape. A second table
does the same for the other convolutions (conv1d, conv3d, conv_transpose3d, sliding_window,
local_conv2d, region_restricted_conv, deformable_conv2d), each against
torch's op or, where torch has none, the same computation written with torch ops. Not a test.

    python bench/conv_cpu.py [--repeats R] [--batch N] [--threads T] [--profile]
                             [--section all|resnet|extra]

--threads sets the threads of both peers (torch's pool, engine's OpenMP team, which runs engine's
own GEMM); on a shared machine --threads 1 gives the steadiest ratio.

--omp-wait-policy passive|active sets OMP_WAIT_POLICY before any library loads; the default
("engine") leaves it to engine's own policy (engine/_native.py). torch shares the same libgomp in
this process, so both peers run under the same policy.

--profile also times engine's three kernels alone (forward, data gradient, filter gradient; see
engine/ops/conv_impl.py) to show where the time goes.
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
    """Milliseconds of each of engine's three conv kernels (forward, data gradient, filter
    gradient), called directly on arrays, to show where the step's time goes."""
    import numpy as np

    from engine.ops import conv_impl

    p = conv_impl.ConvParams((stride,) * 2, (padding,) * 2, (1, 1), 1)
    kernel = w.shape[2:]
    stages = {"fwd": lambda: conv_impl.forward(np, x, w, None, p),
              "data": lambda: conv_impl.backward_data(np, dy, w, x.shape[2:], p),
              "filter": lambda: conv_impl.backward_filter(np, x, dy, kernel, p)}
    out = {}
    for name, f in stages.items():
        f()
        out[name] = min(seconds(f, inner=1) for _ in range(3)) * 1e3
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0, help="0: each library's default")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--section", choices=("all", "resnet", "extra"), default="all")
    ap.add_argument("--omp-wait-policy", choices=("engine", "passive", "active"),
                    default="engine")
    args = ap.parse_args()
    if args.omp_wait_policy != "engine":  # read once, when libgomp loads
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
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
          f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', '(unset)')}")
    if args.section in ("all", "resnet"):
        resnet_table(args, rng, engine, np)
    if args.section in ("all", "extra"):
        extra_table(args.repeats, rng)


def median_ms(peers, repeats):
    """Median milliseconds of each peer's step, warmed up and interleaved."""
    for fn in peers.values():  # warm-up: allocations, thread pools, BLAS buffers
        fn()
    samples = {k: [] for k in peers}
    for _ in range(repeats):  # interleaved, so machine noise hits both alike
        for k, fn in peers.items():
            samples[k].append(seconds(fn))
    return {k: statistics.median(v) * 1e3 for k, v in samples.items()}


def resnet_table(args, rng, engine, np):
    print(f"{'shape':18s} {'engine ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    tot_e = tot_t = 0.0
    for name, chw, wshape, stride, padding in SHAPES:
        x = rng.standard_normal((args.batch,) + chw).astype(np.float32)
        w = rng.standard_normal(wshape).astype(np.float32) * 0.1
        oh = (chw[1] + 2 * padding - wshape[2]) // stride + 1
        dy = rng.standard_normal((args.batch, wshape[0], oh, oh)).astype(np.float32)
        peers = {"engine": engine_step(x, w, dy, stride, padding),
                 "torch": torch_step(x, w, dy, stride, padding)}
        ms = median_ms(peers, args.repeats)
        e, t = ms["engine"], ms["torch"]
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


# The other convolutions: (name, inputs (shapes; "ids" marks int32 region ids), engine function,
# torch peer). Each step is forward + backward of every float input against a fixed dy.
def _torch_deformable(x, w, offset, mask, padding):
    """Modulated deformable conv (one deformable group) with torch ops: grid_sample (bilinear,
    zero padding, align_corners=True reads pixel centres at integer coordinates) per tap."""
    import torch

    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = offset.shape[2:]
    taps = kh * kw
    tap_h = torch.arange(kh).repeat_interleave(kw).view(taps, 1, 1)      # ki of tap t
    tap_w = torch.arange(kw).repeat(kh).view(taps, 1, 1)                 # kj of tap t
    base_h = torch.arange(oh).view(1, oh, 1) - padding + tap_h
    base_w = torch.arange(ow).view(1, 1, ow) - padding + tap_w
    off = offset.view(n, taps, 2, oh, ow)
    sh, sw = base_h + off[:, :, 0], base_w + off[:, :, 1]                 # (N, T, OH, OW)
    grid = torch.stack((2 * sw / (wd - 1) - 1, 2 * sh / (h - 1) - 1), -1).view(n, taps * oh, ow, 2)
    cols = torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                                           align_corners=True)            # (N, C, T*OH, OW)
    cols = (cols.view(n, c, taps, oh * ow) * mask.view(n, 1, taps, oh * ow)).view(n, c * taps, -1)
    return torch.matmul(w.view(o, -1), cols).view(n, o, oh, ow)


def _torch_local(x, w, padding):
    import torch

    oh, ow, c, kh, kw, o = w.shape                                       # one group
    cols = torch.nn.functional.unfold(x, (kh, kw), padding=padding)       # (N, C*T, P)
    cols = cols.permute(2, 0, 1)                                          # (P, N, C*T)
    y = torch.bmm(cols, w.reshape(oh * ow, c * kh * kw, o))               # (P, N, O)
    return y.permute(1, 2, 0).reshape(x.shape[0], o, oh, ow)


def _torch_region(x, w, rin, rout, padding):
    import torch

    _, o, c, kh, kw = w.shape
    n, oh, ow = x.shape[0], rout.shape[1], rout.shape[2]
    cols = torch.nn.functional.unfold(x, (kh, kw), padding=padding).view(n, c, kh * kw, -1)
    ids = torch.nn.functional.unfold(rin.unsqueeze(1).float(), (kh, kw), padding=padding)
    keep = (ids == rout.view(n, 1, -1).float()).to(x.dtype).unsqueeze(1)   # (N, 1, T, P)
    y = torch.matmul(w.view(o, -1), (cols * keep).view(n, c * kh * kw, -1))
    return y.view(n, o, oh, ow)


def extra_cases():
    import torch.nn.functional as TF

    import engine.functional as F

    return [
        ("conv1d k3", [(16, 64, 256), (64, 64, 3)],
         lambda x, w: F.conv1d(x, w, padding=1), lambda x, w: TF.conv1d(x, w, padding=1)),
        ("conv3d 3x3x3", [(4, 32, 8, 16, 16), (32, 32, 3, 3, 3)],
         lambda x, w: F.conv3d(x, w, padding=1), lambda x, w: TF.conv3d(x, w, padding=1)),
        ("conv3d 3x3x3/2 g4", [(4, 32, 8, 16, 16), (64, 8, 3, 3, 3)],
         lambda x, w: F.conv3d(x, w, stride=2, padding=1, groups=4),
         lambda x, w: TF.conv3d(x, w, stride=2, padding=1, groups=4)),
        ("convT3d 4x4x4/2", [(4, 32, 4, 8, 8), (32, 16, 4, 4, 4)],
         lambda x, w: F.conv_transpose3d(x, w, stride=2, padding=1),
         lambda x, w: TF.conv_transpose3d(x, w, stride=2, padding=1)),
        ("sliding_window 3x3", [(16, 32, 32, 32)],
         lambda x: F.sliding_window(x, 3, padding=1),
         lambda x: TF.unfold(x, 3, padding=1).view(16, 32, 3, 3, 32, 32).permute(
             0, 1, 4, 5, 2, 3).contiguous()),
        ("local_conv2d 3x3", [(16, 16, 16, 16), (1, 16, 16, 16, 3, 3, 16)],
         lambda x, w: F.local_conv2d(x, w, padding=1),
         lambda x, w: _torch_local(x, w[0], padding=1)),
        ("region_conv 3x3", [(8, 32, 16, 16), (1, 32, 32, 3, 3), ("ids", (8, 16, 16)),
                             ("ids", (8, 16, 16))],
         lambda x, w, a, b: F.region_restricted_conv(x, w, a, b, padding=1),
         lambda x, w, a, b: _torch_region(x, w, a, b, padding=1)),
        ("deformable 3x3", [(8, 64, 16, 16), (64, 64, 3, 3), (8, 18, 16, 16), (8, 9, 16, 16)],
         lambda x, w, off, m: F.deformable_conv2d(x, w, off, m, padding=1),
         lambda x, w, off, m: _torch_deformable(x, w, off, m, padding=1)),
    ]


def _inputs(rng, specs):
    import numpy as np

    arrays = []
    for spec in specs:
        if spec[0] == "ids":
            arrays.append(rng.integers(0, 3, spec[1]).astype(np.int32))
        else:
            arrays.append((rng.standard_normal(spec) * 0.5).astype(np.float32))
    return arrays


def extra_step(kind, fn, arrays):
    """forward + backward of every float input against a fixed dy, engine or torch."""
    import numpy as np

    if kind == "torch":
        import torch

        ts = [torch.tensor(a, requires_grad=a.dtype == np.float32) for a in arrays]
        dy = torch.ones_like(fn(*ts))

        def run():
            fn(*ts).backward(dy)
            for t in ts:
                t.grad = None
        return run
    import engine as mge
    from engine.autodiff import GradManager

    ts = [mge.tensor(a) for a in arrays]
    floats = [t for t, a in zip(ts, arrays) if a.dtype == np.float32]
    dy = mge.tensor(np.ones(fn(*ts).shape, np.float32))

    def run():
        gm = GradManager().attach(floats)
        with gm:
            gm.backward(fn(*ts), dy)
        for t in floats:
            t.grad = None
    return run


def extra_table(repeats, rng):
    print(f"\n{'other convs':18s} {'engine ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    for name, specs, efn, tfn in extra_cases():
        arrays = _inputs(rng, specs)
        ms = median_ms({"engine": extra_step("engine", efn, arrays),
                        "torch": extra_step("torch", tfn, arrays)}, repeats)
        print(f"{name:18s} {ms['engine']:10.2f} {ms['torch']:10.2f} "
              f"{ms['engine'] / ms['torch']:6.2f}x")
    print("torch peers: its own op for conv1d/conv3d/conv_transpose3d/unfold; the same "
          "computation in torch ops (unfold, bmm, grid_sample) for local, region and deformable")


if __name__ == "__main__":
    main()
