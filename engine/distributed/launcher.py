"""dist.launcher: run a function in N processes of one job (MegEngine's decorator).

    @dist.launcher(n_gpus=4, device_type="cpu")
    def train(): ...
    results = train()          # one return value per rank

Outside mpiexec the launcher forks the workers itself (so local functions and closures work, as
in MegEngine) and starts their MPI job through a dist.Server. Under `mpiexec -n N` each
process is already one rank: the function runs in place on every rank.
"""
import functools
import multiprocessing as mp
import os
import pickle
import signal
import sys
import time
import traceback
from multiprocessing.connection import wait

from .._native import single_threaded_after_fork
from . import _mpi_job, group
from .group import group_barrier, init_process_group
from .helper import get_device_count_by_fork
from .server import Server

__all__ = ["launcher"]

_KILL_GRACE = 2.0   # seconds between SIGTERM and SIGKILL for the surviving workers


def _run_worker(conn, func, args, kwargs, rank, world_size, dev, master_ip, port, device_type,
                backend, machine_ranks):
    code = 1
    try:
        _mpi_job.die_with_parent()
        single_threaded_after_fork()  # one thread per rank; mpiexec ranks share the cores
        init_process_group(master_ip=master_ip, port=port, world_size=world_size, rank=rank,
                           device=dev, backend=backend, device_type=device_type)
        group._set_machine_ranks(machine_ranks)
        ret = func(*args, **kwargs)
        try:
            payload = pickle.dumps(("ok", ret))
        except Exception as e:  # a result that cannot travel back is still a success
            payload = pickle.dumps(("ok-unpicklable", f"{type(e).__name__}: {e}"))
        group_barrier()  # every rank done before any rank leaves the job
        group._finishing()
        _finalize_mpi()
        conn.send_bytes(payload)
        code = 0
    except SystemExit as e:
        if e.code not in (None, 0):
            payload = pickle.dumps(("error", e, traceback.format_exc()))
        else:  # exit(0) in the function: a rank that ends early returns None (MegEngine's)
            code = 0
            group._finishing()
            payload = pickle.dumps(("ok", None))
        try:
            conn.send_bytes(payload)
        except OSError:
            pass
    except BaseException as e:  # noqa: B036 - everything goes back to the launcher
        tb = traceback.format_exc()
        try:
            payload = pickle.dumps(("error", e, tb))
        except Exception:
            payload = pickle.dumps(("error", None, tb))
        try:
            conn.send_bytes(payload)
        except OSError:
            pass
    finally:
        group._exit_code(code)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _finalize_mpi():
    if "mpi4py.MPI" in sys.modules:
        from mpi4py import MPI

        if MPI.Is_initialized() and not MPI.Is_finalized():
            MPI.Finalize()


class launcher:
    r"""Decorator for launching multiple processes in single-machine multi-device training.

    Args:
        func(Callable): the function you want to launch in distributed mode.
        n_gpus(Number): how many processes (devices) on this node. None: the device count of
            this node for ``device_type`` (for 'cpu': the CPU count).
        world_size(Number): how many processes in all. None: ``n_gpus``. A job on several
            hosts is started with ``mpiexec`` and its host list instead (see the README).
        rank_start(Number): the first rank on this node (0 on a single machine).
        master_ip(str): ip address of the master node (where rank 0 and the Server are).
        port(Number): port of the distributed Server; 0 picks a free one.
        device_type(str): 'xpu' (GPUs when there are some, else the CPU), 'gpu' or 'cpu'.
        backend(str): 'nccl' (the default; on the CPU the data goes through MPI whatever the
            name), or 'mpi'.

    Returns:
        calling the decorated function returns the list of each rank's return value, in rank
        order. When a worker raises, the others are stopped and its exception is raised again,
        naming the rank, with the worker's traceback in the message.

    Examples:
        .. code-block:: python

            @dist.launcher(n_gpus=2, device_type="cpu")
            def worker():
                return dist.get_rank()

            worker()   # [0, 1]
    """

    def __new__(cls, *args, **kwargs):
        if not args:
            return functools.partial(cls, **kwargs)
        return super().__new__(cls)

    def __init__(self, func, n_gpus=None, world_size=None, rank_start=0,
                 master_ip="localhost", port=0, device_type="xpu", backend="nccl"):
        if not callable(func):
            raise TypeError(f"launcher: expected a function, got {type(func).__name__}")
        functools.update_wrapper(self, func)
        self.func = func
        self.device_type = device_type
        if n_gpus is None:
            # counted in a child: the launching process must not initialise CUDA before it forks
            physical = group._physical_device_type(device_type, get_device_count_by_fork)
            n_gpus = get_device_count_by_fork(physical)
        if not isinstance(n_gpus, int) or n_gpus < 1:
            raise ValueError(f"launcher: n_gpus must be an int >= 1, got {n_gpus!r}"
                             + (" (no GPU found: pass device_type='cpu')" if n_gpus == 0 else ""))
        self.n_gpus = n_gpus
        self.world_size = n_gpus if world_size is None else world_size
        self.rank_start = rank_start
        self.master_ip = master_ip
        self.port = port
        self.backend = backend

    # ------------------------------------------------------------------ in place (mpiexec)
    def _run_in_place(self, rank, size, args, kwargs):
        if not group.is_distributed():
            local = int(os.environ.get("MPI_LOCALRANKID", os.environ.get(
                "OMPI_COMM_WORLD_LOCAL_RANK", rank % self.n_gpus)))
            init_process_group(self.master_ip, self.port, size, rank, local, self.backend,
                               self.device_type)
        ret = self.func(*args, **kwargs)
        if size == 1:
            return [ret]
        from .helper import all_gather_object

        return all_gather_object(ret)

    def __call__(self, *args, **kwargs):
        launched = _mpi_job.launched_by_mpiexec()
        if launched is not None or group.is_distributed():
            rank, size = launched or (group.get_rank(), group.get_world_size())
            return self._run_in_place(rank, size, args, kwargs)
        if self.world_size != self.n_gpus or self.rank_start != 0:
            raise ValueError("launcher: a job on several hosts (world_size > n_gpus) is started "
                             "with mpiexec and its host list, e.g. `mpiexec -hosts a,b -n 8 "
                             "python train.py`; the launcher then runs in place on each rank")
        if "mpi4py.MPI" in sys.modules:
            raise RuntimeError("launcher: mpi4py.MPI is already imported in the launching "
                               "process; MPI cannot be forked. Import it inside the worker "
                               "function, or start the job with mpiexec")
        return self._fork_workers(args, kwargs)

    # ------------------------------------------------------------------ forked workers
    def _fork_workers(self, args, kwargs):
        n = self.n_gpus
        # the launcher's job is on this host: its Server listens on the loopback only
        server = Server(self.port, _host=self.master_ip if self.master_ip != "localhost"
                        else "127.0.0.1") if n > 1 else None
        port = server.py_server_port if server is not None else 0
        ctx = mp.get_context("fork")
        procs, conns = [], []
        machine_ranks = list(range(n))
        try:
            for rank in range(n):
                parent_end, child_end = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_run_worker, name=f"engine-rank{rank}", args=(
                    child_end, self.func, args, kwargs, rank, n, rank, self.master_ip, port,
                    self.device_type, self.backend, machine_ranks))
                p.start()
                child_end.close()
                procs.append(p)
                conns.append(parent_end)
            return self._collect(procs, conns)
        finally:
            _stop(procs)
            for c in conns:
                c.close()
            if server is not None:
                server.close()

    def _collect(self, procs, conns):
        results = [None] * len(procs)
        pending = {c: rank for rank, c in enumerate(conns)}
        alive = {p.sentinel: rank for rank, p in enumerate(procs)}
        while pending or alive:
            for obj in wait(list(pending) + list(alive), timeout=1.0):
                if obj in pending:
                    rank = pending.pop(obj)
                    msg = _receive(obj)
                    if msg is None:
                        continue  # died before reporting: its exit code tells
                    if msg[0] == "error":
                        _stop(procs)
                        _reraise(rank, msg[1], msg[2])
                    results[rank] = msg[1] if msg[0] == "ok" else None
                elif obj in alive:
                    rank = alive.pop(obj)
                    procs[rank].join()
                    code = procs[rank].exitcode
                    if code == 0:
                        continue
                    # a worker that raised sends its traceback before it exits
                    msg = _receive(conns[rank]) if pending.pop(conns[rank], None) is not None \
                        else None
                    _stop(procs)
                    if msg is not None and msg[0] == "error":
                        _reraise(rank, msg[1], msg[2])
                    how = (f"was killed by signal {-code}" if code < 0
                           else f"exited with code {code}")
                    raise RuntimeError(f"dist.launcher: rank {rank} {how} before finishing; "
                                       "the other ranks were stopped")
        return results


def _receive(conn):
    """The worker's message, or None when it closed its end without one."""
    try:
        if not conn.poll(0):
            return None
        return pickle.loads(conn.recv_bytes())
    except (EOFError, OSError):
        return None


def _stop(procs):
    """SIGTERM the live workers, then SIGKILL what is left after a grace period."""
    live = [p for p in procs if p.exitcode is None and p.pid is not None]
    for p in live:
        try:
            os.kill(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + _KILL_GRACE
    for p in live:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.exitcode is None:
            p.kill()
            p.join(5)


def _reraise(rank, exc, tb):
    text = (f"dist.launcher: rank {rank} raised {type(exc).__name__ if exc else 'an error'}"
            f"{': ' + str(exc) if exc is not None else ''}\n--- traceback of rank {rank} ---\n"
            f"{tb.rstrip()}")
    err = None
    if exc is not None:
        try:
            err = type(exc)(text)
        except Exception:
            err = None
    raise (err or RuntimeError(text)) from None
