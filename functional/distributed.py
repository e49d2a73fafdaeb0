"""F.distributed: the collectives of engine.distributed.functional (MegEngine's path)."""
from engine.distributed.functional import (  # noqa: F401
    _remote_recv_nobackward,
    _remote_send_nobackward,
    all_gather,
    all_reduce_max,
    all_reduce_min,
    all_reduce_sum,
    all_to_all,
    broadcast,
    gather,
    reduce_scatter_sum,
    reduce_sum,
    remote_recv,
    remote_send,
    scatter,
)
from engine.distributed.functional import collective_comm  # noqa: F401

__all__ = ["all_gather", "all_reduce_max", "all_reduce_min", "all_reduce_sum", "all_to_all",
           "broadcast", "collective_comm", "gather", "reduce_scatter_sum", "reduce_sum",
           "remote_recv", "remote_send", "scatter"]
