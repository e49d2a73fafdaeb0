"""engine.distributed: data-parallel training over MPI (CPU processes, hosts) and NCCL (GPUs),
with MegEngine 1.13's API.

    @dist.launcher(n_gpus=4, device_type="cpu")      # or: mpiexec -n 4 python train.py
    def train():
        model = Net()
        dist.bcast_list_(model.parameters())
        gm = GradManager().attach(model.parameters(),
                                  callbacks=[dist.make_allreduce_cb("mean")])
        ...

With one process everything works without MPI installed: rank 0 of 1, collectives are
identities. `pip install -e .[dist]` installs mpi4py and the mpich wheel (no system MPI).
"""
import sys as _sys
import types as _types

from . import functional, group, helper
from .group import (
    WORLD,
    Group,
    get_backend,
    get_client,
    get_local_device_id,
    get_mm_server_addr,
    get_py_server_addr,
    get_rank,
    get_world_size,
    group_barrier,
    init_process_group,
    is_distributed,
    new_group,
    override_backend,
)
from .helper import all_gather_object, bcast_list_, make_allreduce_cb, synchronized
from .launcher import launcher
from .server import Client, Server

__all__ = ["WORLD", "Group", "get_backend", "get_client", "get_local_device_id",
           "get_mm_server_addr", "get_py_server_addr", "get_rank", "get_world_size",
           "group_barrier", "init_process_group", "is_distributed", "new_group",
           "override_backend", "bcast_list_", "make_allreduce_cb", "synchronized", "launcher",
           "Client", "Server", "all_gather_object", "backend", "functional", "helper"]


class _DistributedModule(_types.ModuleType):
    @property
    def backend(self):
        r"""Get or set the backend of collective communication ('nccl', 'mpi', ...; on the
        CPU the data goes through MPI whatever the name). None outside a distributed job."""
        return None if group._sd is None else group._sd.backend

    @backend.setter
    def backend(self, value):
        if group._sd is None:
            raise RuntimeError("dist.backend: please call init_process_group first")
        group._sd.backend = value


_sys.modules[__name__].__class__ = _DistributedModule
