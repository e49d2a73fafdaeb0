"""Data-parallel training gives the parameters of one process on the same global batch.

A small conv net, 10 steps, 2 and 4 ranks, SGD (momentum) and Adam:
- SyncBatchNorm: N ranks == one process with BatchNorm over the global batch;
- BatchNorm (statistics per rank): N ranks == one process whose loss is the mean of the
  per-shard losses, each shard normalised with its own statistics.
Each rank starts from different random weights: bcast_param makes them rank 0's.

Tolerance: the gradient all-reduce adds the ranks' gradients in another order than one
process's backward does (and SyncBatchNorm sums its statistics per rank first), so results are
not bit-identical; after 10 steps they agree within 1e-6 (relative, plus 1e-6 absolute for
values near zero). Across ranks the parameters are bitwise identical (the all-reduce gives
every rank the same bytes).
"""
import numpy as np
import pytest

import engine as mge
import engine.distributed as dist
import engine.functional as F
import engine.module as M
import engine.optimizer as optim
from engine.autodiff import GradManager

from .common import needs_mpi, run

GLOBAL_BATCH, STEPS = 8, 10


class Net(M.Module):
    def __init__(self, sync):
        super().__init__()
        # no bias before BatchNorm: its gradient is rounding noise, which Adam would amplify
        self.conv = M.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = M.SyncBatchNorm(4) if sync else M.BatchNorm2d(4)
        self.fc = M.Linear(4, 3)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        return self.fc(x.mean(axis=(2, 3)))


def _data(step):
    rng = np.random.RandomState(100 + step)
    return (rng.randn(GLOBAL_BATCH, 3, 6, 6).astype(np.float32),
            rng.randint(0, 3, size=GLOBAL_BATCH).astype(np.int32))


def _make(sync, opt_name, seed):
    np.random.seed(seed)
    mge.random.seed(seed)
    net = Net(sync)
    opt = (optim.SGD(net.parameters(), lr=0.1, momentum=0.9) if opt_name == "sgd"
           else optim.Adam(net.parameters(), lr=0.01))
    return net, opt


def _params(net):
    return {k: np.array(v) for k, v in net.state_dict().items()}


def _distributed(sync, opt_name):
    rank, n = dist.get_rank(), dist.get_world_size()
    net, opt = _make(sync, opt_name, seed=rank)  # different starts: the broadcast aligns them
    opt.bcast_param()
    dist.bcast_list_(list(net.buffers()))
    gm = GradManager().attach(net.parameters(), callbacks=[dist.make_allreduce_cb("mean")])
    shard = GLOBAL_BATCH // n
    for step in range(STEPS):
        x, y = _data(step)
        x, y = x[rank * shard:(rank + 1) * shard], y[rank * shard:(rank + 1) * shard]
        with gm:
            loss = F.loss.cross_entropy(net(mge.tensor(x)), mge.tensor(y))
            gm.backward(loss)
        opt.step().clear_grad()
    return _params(net)


def _one_process(sync, opt_name, n):
    net, opt = _make(sync, opt_name, seed=0)
    gm = GradManager().attach(net.parameters())
    shard = GLOBAL_BATCH // n
    for step in range(STEPS):
        x, y = _data(step)
        with gm:
            if sync:
                loss = F.loss.cross_entropy(net(mge.tensor(x)), mge.tensor(y))
            else:
                losses = [F.loss.cross_entropy(net(mge.tensor(x[s:s + shard])),
                                               mge.tensor(y[s:s + shard]))
                          for s in range(0, GLOBAL_BATCH, shard)]
                loss = sum(losses) / n
            gm.backward(loss)
        opt.step().clear_grad()
    return _params(net)


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
@pytest.mark.parametrize("sync", [True, False], ids=["SyncBatchNorm", "BatchNorm"])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_n_ranks_match_one_process(n, sync, opt_name):
    got = run(n, _distributed, sync, opt_name)
    for r in range(1, n):
        for k in got[0]:
            if sync or "running" not in k:  # per-rank BatchNorm keeps per-rank statistics
                assert got[r][k].tobytes() == got[0][k].tobytes(), f"{k} differs on rank {r}"
    expect = _one_process(sync, opt_name, n)
    for k, v in expect.items():
        if not sync and "running" in k:
            continue
        np.testing.assert_allclose(got[0][k], v, rtol=1e-6, atol=1e-6, err_msg=k)
