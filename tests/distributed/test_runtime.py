"""The job around the collectives: one process without MPI, the launcher, errors and faults,
point-to-point with gradients, dtypes, groups, the Server, and mpiexec."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import engine as mge
import engine.distributed as dist
import engine.functional as F
from engine.autodiff import GradManager

from .common import needs_mpi, run


# ---------------------------------------------------------------------------- one process
def test_one_process_is_rank_0_of_1_and_collectives_are_identities():
    assert (dist.get_rank(), dist.get_world_size(), dist.is_distributed()) == (0, 1, False)
    assert dist.get_backend() is None
    x = mge.tensor([1.0, 2.0])
    for fn in (F.distributed.all_reduce_sum, F.distributed.all_reduce_max,
               F.distributed.all_gather, F.distributed.broadcast, F.distributed.reduce_sum,
               F.distributed.gather, F.distributed.scatter, F.distributed.all_to_all,
               F.distributed.reduce_scatter_sum):
        np.testing.assert_array_equal(fn(x).numpy(), [1.0, 2.0])
    dist.group_barrier()
    assert dist.all_gather_object("a") == ["a"]
    dist.bcast_list_([x])
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    cb = dist.make_allreduce_cb("mean")
    assert cb(x, x) is x
    with pytest.raises(RuntimeError, match="remote_send: there is no other process"):
        F.distributed.remote_send(x, 1)


def test_launcher_arguments_are_checked():
    with pytest.raises(ValueError, match="n_gpus must be an int >= 1"):
        dist.launcher(n_gpus=0, device_type="cpu")(print)
    with pytest.raises(ValueError, match="mpiexec"):
        dist.launcher(n_gpus=2, world_size=4, device_type="cpu")(print)()
    with pytest.raises(ValueError, match="reduce_method should be 'sum' or 'mean'"):
        dist.make_allreduce_cb("avg")


def test_launcher_with_one_process_needs_no_mpi():
    def worker(a):
        return dist.get_rank(), dist.get_world_size(), a

    assert run(1, worker, 5) == [(0, 1, 5)]


def test_server_and_client():
    server = dist.Server(0)
    client = dist.Client("localhost", server.py_server_port)
    client.user_set("k", {"lr": [0.1]})
    assert client.user_get("k") == {"lr": [0.1]}
    assert client.user_pop("k") == {"lr": [0.1]}
    client.group_barrier("solo", 1)


# ---------------------------------------------------------------------------- the launcher
@needs_mpi
def test_launcher_returns_rank_ordered_results_and_closures_work():
    captured = {"base": 10}

    def worker(scale):
        return captured["base"] + scale * dist.get_rank(), dist.get_world_size(), \
            dist.get_backend()

    # get_backend is the name given (the launcher's default "nccl", as MegEngine reports it);
    # on the CPU the data goes through MPI whatever the name
    assert run(3, worker, 2) == [(10, 3, "nccl"), (12, 3, "nccl"), (14, 3, "nccl")]


@needs_mpi
def test_a_raising_worker_is_reraised_with_its_rank_and_traceback():
    def worker():
        if dist.get_rank() == 1:
            raise KeyError("missing-piece")
        F.distributed.all_reduce_sum(mge.tensor([1.0]))  # rank 0 waits for rank 1 forever
        return "never"

    start = time.monotonic()
    with pytest.raises(KeyError, match="rank 1 raised KeyError") as info:
        run(2, worker)
    assert "missing-piece" in str(info.value) and "traceback of rank 1" in str(info.value)
    assert time.monotonic() - start < 60


@needs_mpi
def test_a_killed_worker_ends_the_job_naming_its_rank():
    def worker():
        if dist.get_rank() == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        F.distributed.all_reduce_sum(mge.tensor([1.0]))
        return "never"

    start = time.monotonic()
    with pytest.raises(RuntimeError, match="rank 2 was killed by signal 9"):
        run(3, worker)
    assert time.monotonic() - start < 60


@needs_mpi
@pytest.mark.parametrize("case, message", [
    ("shape", r"all_reduce_sum \(rank \d\): the ranks of the group called it with different "
              r"shapes(.|\n)*global rank 1\): all_reduce_sum, float32, shape \(3,\)"),
    ("dtype", r"different dtypes(.|\n)*global rank 1\): all_gather, int32"),
    ("op", r"different collectives(.|\n)*global rank 0\): all_reduce_sum(.|\n)*"
           r"global rank 1\): broadcast"),
    ("tracked", r"record gradients on some ranks only"),
])
def test_mismatched_calls_are_errors_naming_ranks_never_hangs(case, message):
    def worker():
        r = dist.get_rank()
        if case == "shape":
            F.distributed.all_reduce_sum(mge.tensor(np.ones(2 + r, np.float32)))
        elif case == "dtype":
            F.distributed.all_gather(mge.tensor(np.ones(2, np.float32 if r == 0 else np.int32)))
        elif case == "op":
            x = mge.tensor([1.0])
            (F.distributed.all_reduce_sum if r == 0 else F.distributed.broadcast)(x)
        else:
            x = mge.tensor([1.0])
            gm = GradManager()
            if r == 0:
                gm.attach(x)
            with gm:
                F.distributed.all_reduce_sum(x * 2)

    with pytest.raises(RuntimeError, match=message):
        run(2, worker)


# ---------------------------------------------------------------------------- data
@needs_mpi
def test_dtypes_and_bitwise_identical_results_on_every_rank():
    def worker():
        r = dist.get_rank()
        out = {}
        for dtype in ("float32", "float16", "int32", "int8", "uint8", "bool"):
            x = mge.tensor((np.arange(6) * (r + 1) % 5).astype(dtype))
            out[dtype] = (F.distributed.all_reduce_max(x).numpy(),
                          F.distributed.all_gather(x).numpy())
        rng = np.random.RandomState(r)
        big = mge.tensor(rng.randn(100_000).astype(np.float32))
        out["sum"] = F.distributed.all_reduce_sum(big).numpy()
        return out

    res = run(3, worker)
    for dtype in ("float32", "float16", "int32", "int8", "uint8", "bool"):
        xs = [(np.arange(6) * (r + 1) % 5).astype(dtype) for r in range(3)]
        for r in range(3):
            mx, gathered = res[r][dtype]
            assert mx.dtype == np.dtype(dtype) and gathered.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(mx, np.max(xs, axis=0))
            np.testing.assert_array_equal(gathered, np.concatenate(xs))
    expect = sum(np.random.RandomState(r).randn(100_000).astype(np.float64) for r in range(3))
    np.testing.assert_allclose(res[0]["sum"], expect, rtol=1e-5, atol=1e-5)
    assert res[0]["sum"].tobytes() == res[1]["sum"].tobytes() == res[2]["sum"].tobytes()


@needs_mpi
def test_subgroups_and_group_barrier():
    def worker():
        r = dist.get_rank()
        evens = dist.new_group([0, 2]) if r in (0, 2) else dist.new_group([3, 1])
        s = F.distributed.all_reduce_sum(mge.tensor([float(r)]), evens).numpy()
        dist.group_barrier(evens)
        dist.group_barrier()
        lst = F.distributed.all_reduce_sum(mge.tensor([float(r)]), [0, 1, 2, 3]).numpy()
        return float(s[0]), evens.rank, evens.size, float(lst[0])

    assert run(4, worker) == [(2.0, 0, 2, 6.0), (4.0, 1, 2, 6.0), (2.0, 1, 2, 6.0),
                              (4.0, 0, 2, 6.0)]


@needs_mpi
def test_pipeline_with_remote_send_and_recv_gradients():
    # rank k: x -> linear_k -> send to k + 1; the last rank takes the mean. Each rank's weight
    # gradient must equal the one-process gradient of the whole chain.
    rng = np.random.RandomState(0)
    weights = [rng.randn(3, 3).astype(np.float32) for _ in range(3)]
    x0 = rng.randn(2, 3).astype(np.float32)

    def worker():
        r, n = dist.get_rank(), dist.get_world_size()
        w = mge.Parameter(weights[r])
        gm = GradManager().attach(w)
        with gm:
            x = mge.tensor(x0) if r == 0 else F.distributed.remote_recv(r - 1)
            y = F.matmul(x, w)
            if r != n - 1:
                assert F.distributed.remote_send(y, r + 1) is None
                gm.backward()
            else:
                gm.backward(y.mean())
        return w.grad.numpy()

    got = run(3, worker)
    ws = [mge.Parameter(w) for w in weights]
    gm = GradManager().attach(ws)
    with gm:
        y = mge.tensor(x0)
        for w in ws:
            y = F.matmul(y, w)
        gm.backward(y.mean())
    for r in range(3):
        np.testing.assert_allclose(got[r], ws[r].grad.numpy(), rtol=1e-5, atol=1e-6)


@needs_mpi
def test_server_values_reach_every_rank():
    def worker():
        client = dist.get_client()
        if dist.get_rank() == 0:
            client.user_set("plan", "a")
        val = client.bcast_val({"seed": 3} if dist.get_rank() == 0 else None, "k", 2)
        dist.group_barrier()
        return val, client.user_get("plan")

    assert run(2, worker) == [({"seed": 3}, "a")] * 2


# ---------------------------------------------------------------------------- mpiexec
@needs_mpi
def test_mpiexec_runs_a_script_with_launcher_and_init_process_group(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import numpy as np
        import engine as mge
        import engine.distributed as dist
        import engine.functional as F

        @dist.launcher(n_gpus=2, device_type="cpu")
        def main():
            x = mge.tensor([float(dist.get_rank() + 1)])
            return float(F.distributed.all_reduce_sum(x).numpy()[0])

        results = main()
        print(f"rank {dist.get_rank()} of {dist.get_world_size()}: {results}", flush=True)
    """))
    from engine.distributed._mpi_job import find_mpiexec

    out = subprocess.run([find_mpiexec(), "-n", "2", sys.executable, str(script)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # (the two ranks share one pipe: their lines may interleave)
    import re

    assert sorted(re.findall(r"rank \d of 2: \[3\.0, 3\.0\]", out.stdout)) == [
        "rank 0 of 2: [3.0, 3.0]", "rank 1 of 2: [3.0, 3.0]"]


# ---------------------------------------------------------------------------- training pieces
@needs_mpi
def test_allreduce_callback_buckets_small_gradients_into_one_message():
    import engine.module as M
    from engine.distributed._comm import MPIComm

    def worker(threshold):
        calls = []
        original = MPIComm.allreduce

        def counting(self, x, op):
            calls.append(x.size)
            return original(self, x, op)

        MPIComm.allreduce = counting
        r = dist.get_rank()
        np.random.seed(0)
        net = M.Sequential(M.Linear(4, 8), M.ReLU(), M.Linear(8, 8), M.Linear(8, 2))
        cb_mean = dist.make_allreduce_cb("mean")
        cb_mean._param_pack_thd = threshold
        gm = GradManager().attach(net.parameters(), callbacks=[cb_mean])
        x = mge.tensor(np.full((3, 4), r + 1.0, np.float32))
        with gm:
            gm.backward(net(x).sum())
        grads = [p.grad.numpy() for p in net.parameters()]
        # the same without the callback, to compare
        for p in net.parameters():
            p.grad = None
        gm2 = GradManager().attach(net.parameters())
        with gm2:
            gm2.backward(net(x).sum())
        local = [p.grad.numpy() for p in net.parameters()]
        return calls, grads, local

    res = run(2, worker, 10 * 1024 * 1024)
    n_values = sum(g.size for g in res[0][1])
    assert res[0][0] == [n_values] and res[1][0] == [n_values]  # one message for all six
    for g0, g1, l0, l1 in zip(res[0][1], res[1][1], res[0][2], res[1][2]):
        np.testing.assert_allclose(g0, (l0 + l1) / 2, rtol=1e-6, atol=1e-7)
        assert g0.tobytes() == g1.tobytes()
    small = run(2, worker, 100)  # 100-byte buckets: several messages, same gradients
    assert len(small[0][0]) > 1 and sum(small[0][0]) == n_values
    for a, b in zip(small[0][1], res[0][1]):
        np.testing.assert_array_equal(a, b)


@needs_mpi
def test_samplers_split_the_data_by_rank():
    from engine.data import RandomSampler, SequentialSampler

    def worker():
        rnd = RandomSampler(list(range(10)), batch_size=2)
        seq = SequentialSampler(list(range(7)), batch_size=2)
        return [sum(list(rnd), []) for _ in range(2)], sum(list(seq), [])

    res = run(2, worker)
    for epoch in range(2):
        seen = res[0][0][epoch] + res[1][0][epoch]
        assert sorted(seen) == list(range(10))  # every sample once per epoch
    assert res[0][0][0] != res[0][0][1]  # a new order each epoch
    assert res[0][1] == [0, 2, 4, 6] and res[1][1] == [1, 3, 5, 0]  # padded by wrapping


# ---------------------------------------------------------------------------- edge cases
@needs_mpi
def test_bcast_list_writes_non_contiguous_parameters():
    def worker():
        r = dist.get_rank()
        p = mge.Parameter(np.arange(6, dtype=np.float32).reshape(2, 3).T * (r + 1))
        assert not p._storage.array.flags.c_contiguous
        dist.bcast_list_([p])
        return p.numpy()

    for got in run(2, worker):
        np.testing.assert_array_equal(got, np.arange(6, dtype=np.float32).reshape(2, 3).T)


@needs_mpi
def test_outputs_reuse_a_buffer_only_when_nothing_refers_to_it():
    def worker():
        x = mge.tensor(np.ones(1 << 16, np.float32))
        ptr = lambda t: t._storage.array.__array_interface__["data"][0]  # noqa: E731
        first = ptr(F.distributed.all_reduce_sum(x))   # dropped at once
        second = F.distributed.all_reduce_sum(x)        # may reuse the first's buffer
        third = F.distributed.all_reduce_sum(x)         # the second is alive: a new buffer
        view = third[:10]
        del third
        fourth = F.distributed.all_reduce_sum(x)        # a view keeps the third's buffer
        np.testing.assert_array_equal(view.numpy(), 2.0)
        return first == ptr(second), ptr(second) != ptr(fourth), float(view.numpy()[0])

    assert run(2, worker) == [(True, True, 2.0)] * 2


@needs_mpi
def test_root_only_argument_errors_reach_every_rank():
    def worker(case):
        if case == "scatter":
            F.distributed.scatter(mge.tensor(np.ones(3, np.float32)))  # 3 rows for 2 ranks
        else:
            F.distributed.all_gather(mge.tensor(1.0))

    with pytest.raises(ValueError, match=r"scatter: axis 0 of the root's shape \(3,\) is not "
                                         r"divisible by the group size 2"):
        run(2, worker, "scatter")
    with pytest.raises(ValueError, match=r"all_gather: needs a tensor of at least 1 dim"):
        run(2, worker, "gather")


@needs_mpi
def test_remote_send_to_a_receiver_that_records_nothing():
    def worker():
        w = mge.Parameter(np.ones(3, np.float32))
        if dist.get_rank() == 0:
            gm = GradManager().attach(w)
            with gm:
                F.distributed.remote_send(w * 2, 1)
                gm.backward()  # the receiver answers at once that no gradient comes
            return w.grad
        return F.distributed.remote_recv(0).numpy().tolist()

    assert run(2, worker) == [None, [2.0, 2.0, 2.0]]


@needs_mpi
def test_the_launcher_leaves_no_mpi_job_behind():
    import glob
    import tempfile

    pattern = os.path.join(tempfile.gettempdir(), "engine-mpi-*")
    before = set(glob.glob(pattern))
    run(2, dist.get_rank)
    assert set(glob.glob(pattern)) <= before


@needs_mpi
def test_backward_runs_collectives_in_reverse_forward_order_on_every_rank():
    # rank 0's loss uses both collectives, rank 1's only the second one (its reduce output is
    # a remote root): both must run the all-reduce's gradient first, then the reduce's
    def worker():
        r = dist.get_rank()
        a = mge.Parameter(np.full(2, r + 1.0, np.float32))
        b = mge.Parameter(np.full(2, r + 1.0, np.float32))
        gm = GradManager().attach([a, b])
        with gm:
            red = F.distributed.reduce_sum(a * 1.0)
            total = F.distributed.all_reduce_sum(b * 1.0).sum()
            gm.backward(red.sum() + total if r == 0 else total)
        return a.grad.numpy().tolist(), b.grad.numpy().tolist()

    # d(sum of losses)/da = 1 on each rank (through reduce); /db = 2 (both losses use it)
    assert run(2, worker) == [([1.0, 1.0], [2.0, 2.0])] * 2


@needs_mpi
def test_sync_batchnorm_on_a_subgroup_normalises_the_subgroup_batch():
    import engine.module as M

    rng = np.random.RandomState(0)
    xs = [rng.randn(2, 3, 4, 4).astype(np.float32) * (r + 1) for r in range(4)]

    def worker():
        r = dist.get_rank()
        pair = dist.new_group([0, 1] if r < 2 else [2, 3])
        return M.SyncBatchNorm(3, group=pair)(mge.tensor(xs[r])).numpy()

    got = run(4, worker)
    for lo in (0, 2):
        expect = M.BatchNorm2d(3)(mge.tensor(np.concatenate(xs[lo:lo + 2]))).numpy()
        np.testing.assert_allclose(np.concatenate(got[lo:lo + 2]), expect, rtol=1e-5,
                                   atol=1e-5)


@needs_mpi
@pytest.mark.parametrize("fault", ["raise", "kill"])
def test_a_failing_rank_under_mpiexec_ends_the_job(tmp_path, fault):
    script = tmp_path / "fail.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal
        import engine as mge
        import engine.distributed as dist
        import engine.functional as F
        from mpi4py import MPI

        dist.init_process_group("localhost", 0, 2, MPI.COMM_WORLD.Get_rank(), 0,
                                device_type="cpu")
        if dist.get_rank() == 1:
            if "{fault}" == "raise":
                raise ValueError("bad batch")
            os.kill(os.getpid(), signal.SIGKILL)
        F.distributed.all_reduce_sum(mge.tensor([1.0]))  # rank 0 would wait forever
    """))
    from engine.distributed._mpi_job import find_mpiexec

    start = time.monotonic()
    out = subprocess.run([find_mpiexec(), "-n", "2", sys.executable, str(script)],
                         capture_output=True, text=True, timeout=90)
    assert out.returncode != 0 and time.monotonic() - start < 60
    if fault == "raise":
        assert "rank 1 of 2 raised ValueError" in out.stderr and "bad batch" in out.stderr


@needs_mpi
def test_a_remote_root_belongs_to_the_managers_it_was_computed_for():
    # rank 1 records with two managers; only gm_a's tensor goes into the reduce, so only
    # gm_a's backward may run the reduce's gradient (a second run would wait for rank 0)
    def worker():
        r = dist.get_rank()
        a = mge.Parameter(np.ones(2, np.float32))
        other = mge.Parameter(np.ones(2, np.float32))
        gm_a, gm_other = GradManager().attach(a), GradManager().attach(other)
        with gm_other:
            with gm_a:
                red = F.distributed.reduce_sum(a * 3.0)
                if r == 0:
                    gm_a.backward(red.sum())
                else:
                    gm_a.backward()
            gm_other.backward((other * 2).sum())
        return a.grad.numpy().tolist(), other.grad.numpy().tolist()

    assert run(2, worker) == [([3.0, 3.0], [2.0, 2.0])] * 2


@needs_mpi
def test_processes_joined_by_hand_end_when_one_dies(tmp_path):
    # no launcher: two processes call init_process_group with the Server's port themselves
    server = dist.Server(0)
    script = tmp_path / "by_hand.py"
    script.write_text(textwrap.dedent(f"""
        import os, signal, sys
        import engine as mge
        import engine.distributed as dist
        import engine.functional as F

        rank = int(sys.argv[1])
        dist.init_process_group("localhost", {server.py_server_port}, 2, rank, 0,
                                device_type="cpu")
        F.distributed.all_reduce_sum(mge.tensor([1.0]))   # both ranks are in the job
        if rank == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        F.distributed.all_reduce_sum(mge.tensor([1.0]))   # rank 0 would wait forever
    """))
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, str(script), str(r)], stderr=subprocess.PIPE,
                              text=True) for r in range(2)]
    try:
        codes = [p.wait(timeout=90) for p in procs]
    finally:
        for p in procs:
            p.kill()
        server.close()
    assert codes[1] == -signal.SIGKILL and codes[0] != 0
    assert time.monotonic() - start < 60
    assert "the MPI job ended (another rank failed)" in procs[0].stderr.read()


@needs_mpi
def test_ranks_that_exit_0_early_return_none():
    def worker():
        sys.exit(0)  # every rank (one alone would leave its peers' collectives unanswered)

    assert run(2, worker) == [None, None]

    def failing():
        sys.exit(3)

    with pytest.raises(SystemExit, match=r"rank \d raised SystemExit: 3"):
        run(2, failing)
