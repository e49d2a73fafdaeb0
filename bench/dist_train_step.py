"""A data-parallel training step on 2 CPU ranks: the cost of the bucketed all-reduce callback.
Not a test.

Each rank trains the ResNet of bench/train_step_cpu.py (batch per rank, 32x32 input), timed
interleaved in the same job: with `dist.make_allreduce_cb("mean")` (the gradients of every
step all-reduced) and without it (the same step, local). torch's DistributedDataParallel (gloo)
against torch's local step in the same processes is the peer.

    python bench/dist_train_step.py [--ranks 2] [--batch 8] [--steps 6]
"""
import argparse
import os
import socket
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_step_cpu import engine_resnet, torch_resnet  # noqa: E402


def _engine_steps(x_np, y_np):
    import engine as mge
    import engine.distributed as dist
    import engine.functional as F
    import engine.optimizer as optim
    from engine.autodiff import GradManager

    model = engine_resnet()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    opt.bcast_param()
    ddp = GradManager().attach(model.parameters(), callbacks=[dist.make_allreduce_cb("mean")])
    local = GradManager().attach(model.parameters())
    x, y = mge.tensor(x_np), mge.tensor(y_np)

    def make(gm):
        def step():
            with gm:
                gm.backward(F.nn.cross_entropy(model(x), y))
            opt.step().clear_grad()
        return step

    return make(ddp), make(local)


def _torch_steps(x_np, y_np, port):
    import torch
    import torch.distributed as tdist
    from torch.nn.parallel import DistributedDataParallel

    import engine.distributed as dist

    torch.set_num_threads(1)
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                             rank=dist.get_rank(), world_size=dist.get_world_size())
    model = torch_resnet()
    wrapped = DistributedDataParallel(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = torch.from_numpy(x_np), torch.from_numpy(y_np.astype(np.int64))

    def make(m):
        def step():
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(m(x), y).backward()
            opt.step()
        return step

    return make(wrapped), make(model)


def worker(batch, steps, port):
    import engine.distributed as dist

    rng = np.random.default_rng(dist.get_rank())
    x = rng.standard_normal((batch, 3, 32, 32)).astype("float32")
    y = rng.integers(0, 10, batch).astype("int32")
    runs = {}
    ddp, local = _engine_steps(x, y)
    runs["engine ddp"], runs["engine local"] = ddp, local
    try:
        tddp, tlocal = _torch_steps(x, y, port)
        runs["torch ddp"], runs["torch local"] = tddp, tlocal
    except ImportError:
        pass
    for step in runs.values():
        step()  # warm up
    samples = {k: [] for k in runs}
    for _ in range(steps):
        for name, step in runs.items():
            dist.group_barrier()
            t0 = time.perf_counter()
            step()
            dist.group_barrier()  # the step ends when the slowest rank is done
            samples[name].append((time.perf_counter() - t0) * 1e3)
    return {k: statistics.median(v) for k, v in samples.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=6)
    args = ap.parse_args()
    import engine.distributed as dist

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    med = dist.launcher(n_gpus=args.ranks, device_type="cpu")(worker)(args.batch, args.steps,
                                                                      port)[0]
    print(f"{args.ranks} ranks, batch {args.batch} per rank, ResNet-18-style 32x32 "
          f"(OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r})")
    for name, ms in med.items():
        print(f"{name:13s} {ms:8.1f} ms per step")
    print(f"engine: all-reduce callback costs {med['engine ddp'] / med['engine local']:.2f}x "
          "the local step")
    if "torch ddp" in med:
        print(f"torch:  DDP (gloo) costs {med['torch ddp'] / med['torch local']:.2f}x the local "
              f"step;  engine ddp / torch ddp = {med['engine ddp'] / med['torch ddp']:.2f}x")


if __name__ == "__main__":
    main()
