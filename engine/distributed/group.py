"""The process group: who this process is in the job, and the groups collectives run on.

MegEngine's names and semantics. `init_process_group` joins the job: under `mpiexec` the
processes already form an MPI job; otherwise the job's Server starts one for them (see
_mpi_job). With world_size 1 no MPI is needed at all and every collective is an identity.
"""
import contextlib
import os
import sys

from .. import device as _device
from .server import Client

__all__ = ["Group", "WORLD", "init_process_group", "is_distributed", "get_rank",
           "get_world_size", "get_backend", "get_local_device_id", "get_py_server_addr",
           "get_mm_server_addr", "get_client", "new_group", "group_barrier",
           "override_backend"]

# MegEngine's backend names; "mpi" is engine's CPU backend. On the CPU every name means MPI.
_backends = {"nccl", "rccl", "cncl", "hccl", "auto", "mpi", "ucx"}
_device_types = {"xpu", "gpu", "cuda", "cpu"}


class StaticData:
    """This process's place in the job (MegEngine keeps the same record)."""

    client = None
    master_ip = None
    py_server_port = None
    world_size = None
    proc_rank = None
    device = None
    backend = None
    device_type = None
    machine_ranks = None
    mpi_world = None      # mpi4py's COMM_WORLD, None when world_size == 1
    link = None           # _mpi_job.WorkerLink when the Server started the MPI job


_sd = None


class Group:
    r"""Include ranked nodes running collective communication (See
    :mod:`~.functional.distributed`).

    By default collectives operate on the default group (also called ``WORLD``) and require
    all processes to enter the distributed function call.

    Args:
        proc_ranks: rank list of the group, the first one is root rank.
    """

    def __init__(self, proc_ranks):
        self._comms = {}
        if len(proc_ranks) == 0:  # empty group
            self.proc_ranks = None
        else:
            self.reset(proc_ranks)

    def reset(self, proc_ranks):
        self.check(proc_ranks)
        self.proc_ranks = list(proc_ranks)
        self._comms = {}

    def check(self, proc_ranks):
        if _sd is None:
            raise RuntimeError("Group: call init_process_group (or run under dist.launcher) "
                               "before making a group")
        if len(set(proc_ranks)) != len(proc_ranks):
            raise ValueError(f"Group: ranks must be distinct, got {list(proc_ranks)}")
        for rank in proc_ranks:
            if not isinstance(rank, int) or not 0 <= rank < _sd.world_size:
                raise ValueError(f"Group: ranks must be ints in [0, {_sd.world_size}), got "
                                 f"{list(proc_ranks)}")
        if _sd.proc_rank not in proc_ranks:
            raise ValueError(f"Group: this process (rank {_sd.proc_rank}) is not in "
                             f"{list(proc_ranks)}; only members make a group")

    def _ranks(self):
        if self.proc_ranks is None:
            raise RuntimeError("invalid group: call init_process_group first (WORLD is empty "
                               "until then)")
        return self.proc_ranks

    @property
    def size(self):
        return len(self._ranks())

    @property
    def key(self):
        return ",".join(map(str, self._ranks()))

    @property
    def rank(self):
        return self._ranks().index(_sd.proc_rank)

    @property
    def comp_node(self):
        return f"{_sd.device_type}{_sd.device}"

    @property
    def is_single_machine(self):
        ranks = _sd.machine_ranks
        return ranks is not None and all(r in ranks for r in self._ranks())

    def comm(self, xp_name="numpy"):
        """This group's communicator for arrays of `xp_name` ("numpy" or "cupy"); made by
        the group's members at their first collective (MPI_Comm_create_group is collective over
        the members only)."""
        comm = self._comms.get(xp_name)
        if comm is None:
            comm = self._comms[xp_name] = _make_comm(self, xp_name)
        return comm

    def __repr__(self):
        return f"Group({self.proc_ranks})"


WORLD = Group([])


def _make_comm(group, xp_name):
    from ._comm import MPIComm

    world = _sd.mpi_world
    if group is WORLD or group.proc_ranks == list(range(_sd.world_size)):
        mpi = world.Dup()
    else:
        mpi = world.Create_group(world.Get_group().Incl(group.proc_ranks))
    host = MPIComm(mpi, group.proc_ranks)
    if xp_name == "numpy":
        return host
    if _effective_backend() == "mpi":
        from ._comm import HostStaged

        return HostStaged(host)
    from ._nccl import NCCLComm

    return NCCLComm(host, _sd.device)


def _effective_backend():
    """What really moves the data: MPI on the CPU, NCCL on GPUs unless "mpi" was asked for
    (then GPU arrays go through host memory)."""
    if _sd.device_type == "cpu" or _sd.backend == "mpi":
        return "mpi"
    return "nccl"


def _physical_device_type(device_type, gpu_count=_device.get_device_count):
    """'gpu' or 'cpu' for MegEngine's device types ('xpu': a GPU when there is one). The
    launcher passes a count that forks, so that it never initialises CUDA itself."""
    if device_type == "xpu":
        return "gpu" if gpu_count("gpu") > 0 else "cpu"
    return "gpu" if device_type == "cuda" else device_type


def init_process_group(master_ip, port, world_size, rank, device, backend="auto",
                       device_type="xpu"):
    r"""Initialize the distributed process group and specify the device used in the current
    process.

    Under ``mpiexec`` the processes are already an MPI job: world_size and rank must match
    it. Otherwise the Server at ``master_ip:port`` starts the MPI job for the processes of this
    host (a job on several hosts starts under mpiexec, with its host list).

    Args:
        master_ip: ip address of the master node.
        port: port of the master node's :class:`Server`.
        world_size: total number of processes participating in the job.
        rank: rank of the current process.
        device: the GPU device id to bind this process to (on the CPU: kept, no effect).
        backend: communicator backend: 'nccl' (GPUs), 'mpi', or 'auto'. On the CPU the data
            always goes through MPI, whatever the name.
        device_type: 'xpu' (a GPU when there is one), 'gpu' or 'cpu'.
    """
    global _sd
    for name, value, kind in (("master_ip", master_ip, str), ("port", port, int),
                              ("world_size", world_size, int), ("rank", rank, int),
                              ("device", device, int)):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"init_process_group: {name} must be {kind.__name__}, got "
                            f"{type(value).__name__}")
    if backend not in _backends:
        raise ValueError(f"init_process_group: backend should be one of {sorted(_backends)} but "
                         f"got {backend!r}")
    if device_type not in _device_types:
        raise ValueError(f"init_process_group: {device_type!r} is not a valid distributed "
                         f"device type; expected one of {sorted(_device_types)}")
    if _sd is not None:
        raise RuntimeError("init_process_group should be called only once")
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"init_process_group: need 0 <= rank < world_size, got rank {rank}, "
                         f"world_size {world_size}")
    physical = _physical_device_type(device_type)
    sd = StaticData()
    sd.master_ip, sd.py_server_port = master_ip, port
    sd.world_size, sd.proc_rank, sd.device = world_size, rank, device
    sd.backend, sd.device_type = backend, physical
    if world_size > 1:
        sd.mpi_world, sd.link = _join_mpi_job(master_ip, port, world_size, rank)
    _sd = sd
    WORLD.reset(list(range(world_size)))
    # each process its own device; on the CPU "cpu0" is this process's own CPU anyway
    _device.set_default_device(f"gpu{device}" if physical == "gpu" else "cpu0")


def _join_mpi_job(master_ip, port, world_size, rank):
    from . import _mpi_job

    if not _mpi_job.mpi_available():
        raise RuntimeError(f"init_process_group: world_size {world_size} needs MPI; install it "
                           "with `pip install -e .[dist]` (mpi4py and the mpich wheel)")
    link = None
    launched = _mpi_job.launched_by_mpiexec()
    if launched is not None:
        _share_cpu_threads()
        _abort_job_on_uncaught_error(rank, world_size)
    if launched is None:
        if "mpi4py.MPI" in sys.modules:
            raise RuntimeError("init_process_group: mpi4py.MPI was imported before the process "
                               "group was made, outside mpiexec; MPI can no longer join the "
                               "job. Import it after init_process_group, or run under mpiexec")
        if port <= 0:
            raise ValueError("init_process_group: outside mpiexec, port must be the port of a "
                             "running dist.Server (the launcher starts one)")
        path = Client(master_ip, port).mpi_endpoint(world_size)
        link = _mpi_job.WorkerLink(path, rank)
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    if world.Get_size() != world_size or world.Get_rank() != rank:
        raise RuntimeError(f"init_process_group: asked for rank {rank} of {world_size}, but "
                           f"this process is rank {world.Get_rank()} of {world.Get_size()} in "
                           "its MPI job (mpiexec -n)")
    return world, link


def _share_cpu_threads():
    """Ranks that mpiexec started on one host share its cores: each gets cores // local ranks
    kernel threads (instead of all cores each, which oversubscribes the machine), unless
    ENGINE_NUM_THREADS / OMP_NUM_THREADS say otherwise."""
    from .._threads import set_num_threads, usable_cores

    local = int(os.environ.get("MPI_LOCALNRANKS", os.environ.get(
        "OMPI_COMM_WORLD_LOCAL_SIZE", "1")))
    explicit = any(os.environ.get(k) for k in ("ENGINE_NUM_THREADS", "OMP_NUM_THREADS"))
    if local > 1 and not explicit:
        set_num_threads(max(1, usable_cores() // local))


def _abort_job_on_uncaught_error(rank, world_size):
    """Under mpiexec an exception that ends one rank would leave the others waiting in their
    next collective: print it with the rank's name and abort the whole job (mpi4py's `-m mpi4py`
    does the same)."""
    import time
    import traceback

    def hook(kind, value, tb):
        # one write, then a moment for mpiexec to forward it before the abort tears down
        sys.stderr.write(f"engine.distributed: rank {rank} of {world_size} raised "
                         f"{kind.__name__}; aborting the MPI job\n"
                         + "".join(traceback.format_exception(kind, value, tb)))
        sys.stderr.flush()
        time.sleep(0.2)
        from mpi4py import MPI

        MPI.COMM_WORLD.Abort(1)

    sys.excepthook = hook


def _set_machine_ranks(ranks):
    _sd.machine_ranks = ranks


@contextlib.contextmanager
def override_backend(new_backend):
    r"""Override distributed backend.

    Args:
        new_backend: communicator backend set in this context.
    """
    if _sd is None:
        raise RuntimeError("override_backend: please call init_process_group first")
    old, _sd.backend = _sd.backend, new_backend
    try:
        yield
    finally:
        _sd.backend = old


def is_distributed():
    r"""Return True if the distributed process group has been initialized."""
    return _sd is not None


def get_rank():
    r"""Get the rank of the current process (0 outside a distributed job)."""
    return _sd.proc_rank if _sd is not None else 0


def get_local_device_id():
    r"""Get the hardware ID of the current process."""
    return _sd.device if _sd is not None else 0


def get_world_size():
    r"""Get the total number of processes participating in the job (1 outside one)."""
    return _sd.world_size if _sd is not None else 1


def get_backend():
    r"""Get the backend str given to init_process_group or the launcher, as MegEngine does
    (None outside a distributed job). On the CPU the data goes through MPI whatever the name;
    on GPUs through NCCL unless it is 'mpi'."""
    return None if _sd is None else _sd.backend


def get_py_server_addr():
    r"""Get master_ip and port of the python XML RPC server."""
    _need_init("get_py_server_addr")
    return _sd.master_ip, _sd.py_server_port


def get_mm_server_addr():
    r"""MegEngine's C++ server address; engine has no such server (the port is None)."""
    _need_init("get_mm_server_addr")
    return _sd.master_ip, None


def get_client():
    r"""Get client of python XML RPC server."""
    _need_init("get_client")
    if _sd.client is None:
        if not _sd.py_server_port:
            raise RuntimeError("get_client: this job has no dist.Server (port 0 was given to "
                               "init_process_group); start one with dist.Server(port)")
        _sd.client = Client(_sd.master_ip, _sd.py_server_port)
    return _sd.client


def _need_init(name):
    if _sd is None:
        raise RuntimeError(f"{name}: please call init_process_group first")


def new_group(proc_ranks):
    r"""Build a subgroup containing certain ranks (this process must be one of them)."""
    return Group(proc_ranks)


def group_barrier(group=WORLD):
    r"""Block until all ranks in the group reach this barrier."""
    if _sd is None or _sd.world_size == 1:
        return
    if not isinstance(group, Group):
        raise TypeError(f"group_barrier: group must be a Group, got {type(group).__name__}")
    comm = group.comm()
    comm.agree("barrier")
    comm.barrier()


def _finishing():
    """This worker is about to finalize MPI: the end of its job is expected from now on."""
    if _sd is not None and _sd.link is not None:
        _sd.link.finishing()


def _exit_code(code):
    """Tell the MPI job this worker ends with `code` (when the Server started the job)."""
    if _sd is not None and _sd.link is not None:
        _sd.link.report_exit(code)


os.environ.setdefault("NCCL_LAUNCH_MODE", "PARALLEL")  # MegEngine sets it to avoid deadlocks
