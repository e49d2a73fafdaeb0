"""Where this process stands in a data-parallel job, and the few collectives det needs
(detectron2's utils/comm, on engine.distributed).

With one process (no launcher, no mpiexec) every function here is the single-process identity:
rank 0 of 1, gathers return [obj], barriers return at once.
"""
__all__ = ["get_rank", "get_world_size", "is_main_process", "synchronize", "all_gather",
           "reduce_mean", "broadcast_object", "broadcast_module", "allreduce_callbacks"]


def _dist():
    """engine.distributed once a job is running, else None (one process needs no MPI)."""
    import engine.distributed as dist

    return dist if dist.is_distributed() else None


def get_world_size():
    """The number of processes of the job (1 without one)."""
    dist = _dist()
    return dist.get_world_size() if dist is not None else 1


def get_rank():
    """This process's rank in [0, world size)."""
    dist = _dist()
    return dist.get_rank() if dist is not None else 0


def is_main_process():
    """True on rank 0: the process that logs, writes checkpoints and evaluates the gathered
    detections."""
    return get_rank() == 0


def synchronize():
    """A barrier over every rank (nothing with one process)."""
    dist = _dist()
    if dist is not None and dist.get_world_size() > 1:
        dist.group_barrier()


def all_gather(obj):
    """[obj of rank 0, obj of rank 1, ...] on every rank; `obj` must be picklable.

    Returns:
        A list of world-size entries, in rank order.
    """
    dist = _dist()
    if dist is None or dist.get_world_size() == 1:
        return [obj]
    return dist.all_gather_object(obj)


def broadcast_object(obj):
    """Rank 0's `obj` on every rank (the others' values are ignored)."""
    return all_gather(obj)[0]


def reduce_mean(values):
    """The mean over ranks of a list of floats (loss normalisers, logged losses), the same on
    every rank: gathered in rank order and summed in float64, so every rank computes the same
    bits.

    Args:
        values: a list of Python numbers (one entry per quantity).

    Returns:
        A list of floats of the same length.
    """
    values = [float(v) for v in values]
    gathered = all_gather(values)
    if len(gathered) == 1:
        return values
    return [sum(col) / len(gathered) for col in zip(*gathered)]


def broadcast_module(module):
    """Copy rank 0's parameters and buffers (BN statistics) into `module` on every rank, in
    place: data-parallel training starts from one set of weights whatever each rank loaded."""
    dist = _dist()
    if dist is not None and dist.get_world_size() > 1:
        dist.bcast_list_(list(module.tensors()))


def allreduce_callbacks():
    """GradManager.attach callbacks averaging each gradient over the ranks
    (dist.make_allreduce_cb("mean"), bucketed); [] with one process."""
    dist = _dist()
    if dist is None or dist.get_world_size() == 1:
        return []
    return [dist.make_allreduce_cb("mean")]
