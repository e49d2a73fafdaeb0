"""One ResNet training step on the CPU, engine against torch in the same run. Not a test.

ResNet with basic blocks 2-2-2-2, widths 32-64-128-256, batch 16, 64x64 input, SGD with
momentum; prints the median of the step times and the ratio engine/torch (goal <= 1.0x).
--background N measures again with N busy processes beside the step (a shared machine) and
prints each peer's slowdown; --profile shows where engine's step spends its time.

    python bench/train_step_cpu.py [--steps 8] [--warmup 2] [--threads N] [--background N]
                                   [--profile]
"""
import argparse

import numpy as np
from _timing import interleaved_median_ms

WIDTHS = (32, 64, 128, 256)


def engine_resnet(num_classes=10):
    import engine.functional as F
    import engine.module as M

    class Block(M.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = M.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = M.BatchNorm2d(cout)
            self.conv2 = M.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = M.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = M.Sequential(M.Conv2d(cin, cout, 1, stride, bias=False),
                                         M.BatchNorm2d(cout))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return F.relu(out + (x if self.down is None else self.down(x)))

    class ResNet(M.Module):
        def __init__(self):
            super().__init__()
            self.stem = M.Sequential(M.Conv2d(3, WIDTHS[0], 3, 1, 1, bias=False),
                                     M.BatchNorm2d(WIDTHS[0]), M.ReLU())
            blocks, cin = [], WIDTHS[0]
            for i, w in enumerate(WIDTHS):
                blocks += [Block(cin, w, 1 if i == 0 else 2), Block(w, w, 1)]
                cin = w
            self.blocks = M.Sequential(*blocks)
            self.fc = M.Linear(WIDTHS[-1], num_classes)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            return self.fc(F.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1))

    return ResNet()


def torch_resnet(num_classes=10):
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (x if self.down is None else self.down(x)))

    blocks, cin = [], WIDTHS[0]
    for i, w in enumerate(WIDTHS):
        blocks += [Block(cin, w, 1 if i == 0 else 2), Block(w, w, 1)]
        cin = w
    return nn.Sequential(nn.Conv2d(3, WIDTHS[0], 3, 1, 1, bias=False), nn.BatchNorm2d(WIDTHS[0]),
                         nn.ReLU(), *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(WIDTHS[-1], num_classes))


def engine_step_fn(x_np, y_np):
    import engine as mge
    import engine.functional as F
    import engine.optimizer as optim
    from engine.autodiff import GradManager

    model = engine_resnet()
    model.train()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    gm = GradManager().attach(model.parameters())
    x, y = mge.tensor(x_np), mge.tensor(y_np)

    def step():
        with gm:
            loss = F.nn.cross_entropy(model(x), y)
            gm.backward(loss)
        opt.step().clear_grad()
        return loss.item()

    return step


def torch_step_fn(x_np, y_np, make=torch_resnet):
    import torch

    model = make()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np.astype(np.int64))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    ap.add_argument("--background", type=int, default=0,
                    help="also measure with N busy processes beside the step")
    ap.add_argument("--profile", action="store_true", help="cProfile engine's step instead")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, 3, 64, 64)).astype("float32")
    y = rng.integers(0, 10, args.batch).astype("int32")

    steps = {"engine": engine_step_fn(x, y)}
    try:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        steps["torch"] = torch_step_fn(x, y)
    except ImportError:
        print("torch not installed: no peer ratio")
    if args.profile:
        profile_engine(steps["engine"])
        return
    quiet = report(steps, args, "quiet machine")
    if args.background:
        busy = start_busy(args.background)
        try:
            loaded = report(steps, args, f"{args.background} busy process(es) beside it")
        finally:
            for p in busy:
                p.terminate()
        print("slowdown under load: " + ", ".join(
            f"{k} {loaded[k] / quiet[k]:.2f}x" for k in quiet)
            + "   (goal: engine's no worse than torch's + 20%)")


def report(steps, args, label):
    med = interleaved_median_ms(steps, args.steps, warmup=args.warmup)
    print(f"-- {label}")
    for name, ms in med.items():
        ratio = f"   engine/{name} = {med['engine'] / ms:.2f}x" if name != "engine" else ""
        print(f"{name:8s} {ms:8.1f} ms per training step (median of {args.steps}){ratio}")
    print("goal: engine <= 1.0x torch")
    return med


def _spin():
    while True:
        pass


def start_busy(n):
    """n processes that each keep one core busy, as other work on a shared machine does."""
    import multiprocessing as mp

    procs = [mp.get_context("spawn").Process(target=_spin, daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    return procs


def profile_engine(step, top=25):
    """Where engine's step spends its time: cProfile of a few steps, by own time."""
    import cProfile
    import pstats

    step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        step()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    main()
