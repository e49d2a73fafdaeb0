"""launch: run a training function in one process or in several (detectron2's engine/launch,
on engine.distributed).

    launch(main, num_procs=2, device_type="cpu", args=(cfg,))   # forks 2 ranks (MPI)
    launch(main, num_procs=4, device_type="gpu", args=(cfg,))   # 4 ranks, one GPU each (NCCL)

Under `mpiexec -n N` the processes are already the ranks of one job: launch runs `main` in place
on each of them (dist.launcher picks the job up). With one process and no mpiexec, `main` runs
here, in this process (on engine's default device), with no MPI at all.
"""
import os

__all__ = ["launch", "mpiexec_world_size", "LaunchError"]

# what mpiexec / mpirun put in each process's environment: MPICH's hydra (PMI), Open MPI
_MPIEXEC_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


class LaunchError(ValueError):
    """The process count asked for cannot be run (not positive, or not mpiexec's count)."""


def mpiexec_world_size():
    """The number of processes mpiexec started this one with, or None outside mpiexec."""
    for var in _MPIEXEC_SIZE_VARS:
        if var in os.environ:
            return int(os.environ[var])
    return None


def launch(main_func, num_procs=1, device_type="cpu", args=()):
    """Run main_func(*args) on `num_procs` ranks.

    Args:
        main_func: the function every rank runs (it must be picklable by fork: any function).
        num_procs: ranks in the job; None: as many as mpiexec started (1 outside mpiexec).
        device_type: "cpu" (processes talking over MPI) or "gpu" (one GPU per rank, NCCL).
        args: main_func's positional arguments.

    Returns:
        [main_func's return value on rank 0, on rank 1, ...].

    Raises:
        LaunchError: num_procs is not positive or disagrees with mpiexec's process count.
        The exception of a rank that failed, naming that rank (dist.launcher's rule: the other
        ranks are stopped).
    """
    started = mpiexec_world_size()
    if started is not None and num_procs is not None and num_procs != started:
        raise LaunchError(f"{num_procs} processes were asked for, but mpiexec started "
                         f"{started}; give mpiexec -n {num_procs}, or leave the count out")
    n = num_procs if started is None else started
    n = 1 if n is None else n
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise LaunchError(f"the number of processes must be a positive int, got {n!r}")
    if n == 1 and started is None:
        return [main_func(*args)]
    import engine.distributed as dist

    return dist.launcher(n_gpus=n, device_type=device_type)(main_func)(*args)
