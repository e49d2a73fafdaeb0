"""Data-parallel training, MegEngine 1.x style: the same script runs on one process, on N
local processes (dist.launcher) and under mpiexec (N processes, or several hosts).

    python examples/train_data_parallel.py --procs 2        # the launcher forks 2 CPU ranks
    mpiexec -n 2 python examples/train_data_parallel.py     # mpiexec starts them

Each rank reads its share of every epoch (the sampler splits the data by rank), gradients are
averaged over the ranks by the bucketed all-reduce callback, parameters start from rank 0's
values, and only rank 0 prints. The total batch is --batch times the number of ranks.
"""
import argparse

import numpy as np

import engine as mge
import engine.data as data
import engine.distributed as dist
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine.autodiff import GradManager


class Points(data.Dataset):
    """Two interleaved spirals of 2-D points, labels 0/1."""

    def __init__(self, n=2048, seed=0):
        rng = np.random.RandomState(seed)
        t = rng.uniform(0.5, 3 * np.pi, n)
        label = rng.randint(0, 2, n)
        r = t / (3 * np.pi)
        angle = t + np.pi * label
        self.x = np.stack([r * np.cos(angle), r * np.sin(angle)], 1).astype(np.float32)
        self.x += rng.normal(0, 0.02, self.x.shape).astype(np.float32)
        self.y = label.astype(np.int32)

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def __len__(self):
        return len(self.y)


def train(epochs, batch):
    rank, world = dist.get_rank(), dist.get_world_size()
    mge.random.seed(rank)  # different initial weights per rank: bcast_param aligns them
    net = M.Sequential(M.Linear(2, 64), M.ReLU(), M.Linear(64, 64), M.ReLU(), M.Linear(64, 2))
    opt = optim.Adam(net.parameters(), lr=0.01)
    opt.bcast_param()
    gm = GradManager().attach(net.parameters(), callbacks=[dist.make_allreduce_cb("mean")])
    dataset = Points()
    sampler = data.RandomSampler(dataset, batch_size=batch, drop_last=True, seed=1)
    loader = data.DataLoader(dataset, sampler=sampler)
    for epoch in range(epochs):
        losses = []
        for x, y in loader:
            with gm:
                loss = F.loss.cross_entropy(net(mge.tensor(x)), mge.tensor(y))
                gm.backward(loss)
            opt.step().clear_grad()
            losses.append(float(dist.functional.all_reduce_sum(loss).item()) / world)
        if rank == 0:
            print(f"epoch {epoch}: loss {np.mean(losses):.4f} ({world} ranks, total batch "
                  f"{batch * world})", flush=True)
    test = Points(512, seed=1)
    acc = float((net(mge.tensor(test.x)).numpy().argmax(1) == test.y).mean())
    return acc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--procs", type=int, default=1, help="local CPU ranks (ignored under mpiexec)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=32, help="per rank")
    args = ap.parse_args()
    accs = dist.launcher(n_gpus=args.procs, device_type="cpu")(train)(args.epochs, args.batch)
    if dist.get_rank() == 0:
        print(f"test accuracy {accs[0]:.3f} on every rank: {len(set(accs)) == 1}")


if __name__ == "__main__":
    main()
