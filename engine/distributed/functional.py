"""Collectives (MegEngine's engine.distributed.functional, also F.distributed).

Each is differentiable as in MegEngine: the gradient of all_reduce_sum is an all_reduce_sum,
of all_gather a reduce_scatter_sum (and back), of reduce_sum a broadcast (and back), of gather
a scatter (and back), of all_to_all the reverse all_to_all, of remote_send a remote_recv.
Outside a distributed job (or in a group of one) every collective is an identity.

Shapes must match across the ranks of the group (the root's input for broadcast/scatter); every
call first checks that the ranks agree (see _comm), so a mismatch is an error on every rank,
never a hang. A collective's output is made by the group together: DTR never evicts it (a
recompute on one rank alone would wait for the others forever).
"""
from ..autodiff import grad_manager as _gm
from ._p2p import (  # noqa: F401  (MegEngine's module holds them all)
    _remote_recv_nobackward,
    _remote_send_nobackward,
    remote_recv,
    remote_send,
)
from ._plumbing import (
    _as_group,
    _axis,
    _check_agreed_ndim,
    _check_divisible,
    _check_tensor,
    _Collective,
    _comm_for,
    _dummy,
    _from_axis0,
    _grad_or_zeros,
    _single,
    _symmetric,
    _to,
    _to_axis0,
    _tracked,
    _wrap,
    _zeros,
)
from .group import WORLD

__all__ = ["reduce_sum", "broadcast", "all_gather", "reduce_scatter_sum", "all_reduce_sum",
           "all_reduce_max", "all_reduce_min", "gather", "scatter", "all_to_all",
           "remote_send", "remote_recv"]

# ---------------------------------------------------------------------------- all-reduce
class _AllReduce(_Collective):
    def __init__(self, group, comm, dev, op):
        super().__init__(group, comm, dev)
        self.op = op

    def forward(self, x):
        out = _wrap(self.comm.allreduce(x._storage.array, self.op), self.dev)
        if self.op != "sum":
            self.x, self.out = x, out
        return out

    def backward(self, dy):
        g = all_reduce_sum(_grad_or_zeros(dy, self.dev, self.shape_dtype), self.group)
        if self.op == "sum":
            return g
        # the gradient goes to the ranks (and elements) that held the extreme value
        mask = (self.out <= self.x) if self.op == "max" else (self.x <= self.out)
        return g * mask.astype(g.dtype)


def _all_reduce(inp, group, device, op, name):
    _check_tensor(inp, name)
    group = _as_group(group, name)
    if _single(group):
        return _to(inp, device)
    dev = inp._storage.device
    comm = _comm_for(group, dev)
    comm.agree(name, inp.shape, inp.dtype, tracked=_tracked(inp))
    fn = _AllReduce(group, comm, dev, op)
    fn.shape_dtype = (inp.shape, inp.dtype)
    return _to(fn(inp), device)


def all_reduce_sum(inp, group=WORLD, device=None):
    r"""Reduce tensors with sum operation on each value across the specified group.

    Note:
        ``inp`` tensor must have identical shape in all processes across the group.

    Args:
        inp (Tensor): tensor to be reduced.

    Keyword args:
        group (Group or sequence of ints): the process group to work on. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s). A stream suffix ("gpu0:1") is
            accepted; engine runs collectives on the device's current stream.

    Returns:
        A tensor with sum operation on each value across the group, of ``inp``'s shape,
        bitwise identical in all processes of the group.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> x = mge.tensor([1.0, 2.0])
        >>> dist.functional.all_reduce_sum(x).numpy()   # one process: the identity
        array([1., 2.], dtype=float32)
    """
    return _all_reduce(inp, group, device, "sum", "all_reduce_sum")


def all_reduce_max(inp, group=WORLD, device=None):
    r"""Reduce tensors with max operation on each value across the specified group.

    The gradient goes to the elements that held the maximum (to each of them on a tie).

    Args:
        inp (Tensor): tensor to be reduced (identical shape on every rank).

    Keyword args:
        group (Group or sequence of ints): the process group. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).

    Returns:
        A tensor with max operation on each value across the group.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.all_reduce_max(mge.tensor([1.0, 2.0])).numpy()
        array([1., 2.], dtype=float32)
    """
    return _all_reduce(inp, group, device, "max", "all_reduce_max")


def all_reduce_min(inp, group=WORLD, device=None):
    r"""Reduce tensors with min operation on each value across the specified group.

    Args:
        inp (Tensor): tensor to be reduced (identical shape on every rank).

    Keyword args:
        group (Group or sequence of ints): the process group. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).

    Returns:
        A tensor with min operation on each value across the group.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.all_reduce_min(mge.tensor([1.0, 2.0])).numpy()
        array([1., 2.], dtype=float32)
    """
    return _all_reduce(inp, group, device, "min", "all_reduce_min")


# ---------------------------------------------------------------------------- gather family
class _AllGather(_Collective):
    def forward(self, x):
        return _wrap(self.comm.allgather(x._storage.array), self.dev)

    def backward(self, dy):
        return reduce_scatter_sum(_grad_or_zeros(dy, self.dev, self.out_sd), self.group)


class _ReduceScatter(_Collective):
    def forward(self, x):
        return _wrap(self.comm.reduce_scatter(x._storage.array, "sum"), self.dev)

    def backward(self, dy):
        return all_gather(_grad_or_zeros(dy, self.dev, self.out_sd), self.group)


class _AllToAll(_Collective):
    def forward(self, x):
        return _wrap(self.comm.alltoall(x._storage.array), self.dev)

    def backward(self, dy):
        return all_to_all(_grad_or_zeros(dy, self.dev, self.out_sd), self.group)


def all_gather(inp, group=WORLD, device=None, axis=0):
    r"""Gather tensors across the specified group and concat them at ``axis``.

    Args:
        inp: Input tensor (identical shape on every rank).
        group: The process group to work on. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).
        axis: The concat axis for the result. Default: 0.

    Returns:
        The group's inputs concatenated in group-rank order along ``axis``.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.all_gather(mge.tensor([1.0])).numpy()
        array([1.], dtype=float32)
    """
    name = "all_gather"
    state, group = _symmetric(inp, group, name, min_ndim=1)
    if state is None:
        return _to(inp, device)
    axis = _axis(axis, inp.ndim, name)
    comm, dev = state
    fn = _AllGather(group, comm, dev)
    n = group.size
    fn.out_sd = ((inp.shape[0] * n,) + tuple(inp.shape[1:]), inp.dtype)
    out = fn(inp)
    final = list(inp.shape)
    final[axis] *= n
    return _to(_from_axis0(out, axis, n, final), device)


def reduce_scatter_sum(inp, group=WORLD, device=None, axis=0):
    r"""Reduce tensors across the specified group by sum and split them at ``axis``.

    Args:
        inp: Input tensor (identical shape on every rank; ``axis`` divisible by the group size).
        group: The process group to work on. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).
        axis: The split axis. Default: 0.

    Returns:
        This rank's chunk (its group rank's) of the sum.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.reduce_scatter_sum(mge.tensor([1.0, 2.0])).numpy()
        array([1., 2.], dtype=float32)
    """
    name = "reduce_scatter_sum"
    state, group = _symmetric(inp, group, name, min_ndim=1)
    if state is None:
        return _to(inp, device)
    axis = _axis(axis, inp.ndim, name)
    n = group.size
    _check_divisible(name, "axis", axis, inp.shape, n)
    comm, dev = state
    x = _to_axis0(inp, axis, n)
    fn = _ReduceScatter(group, comm, dev)
    fn.out_sd = ((x.shape[0] // n,) + tuple(x.shape[1:]), inp.dtype)
    return _to(fn(x), device)


def all_to_all(inp, group=WORLD, device=None, split_axis=0, concat_axis=0):
    r"""Each process scatters its input to all processes and returns what it gathered.

    Args:
        inp: Input tensor (identical shape on every rank; ``split_axis`` divisible by the group
            size).
        group: The process group to work on. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).
        split_axis: The axis the input is split along. Default: 0.
        concat_axis: The axis the received chunks are concatenated along. Default: 0.

    Returns:
        Chunk r of every rank's input, concatenated along ``concat_axis`` in rank order, on rank r.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.all_to_all(mge.tensor([1.0, 2.0])).numpy()
        array([1., 2.], dtype=float32)
    """
    name = "all_to_all"
    state, group = _symmetric(inp, group, name, min_ndim=1)
    if state is None:
        return _to(inp, device)
    split_axis = _axis(split_axis, inp.ndim, name)
    concat_axis = _axis(concat_axis, inp.ndim, name)
    n = group.size
    _check_divisible(name, "split_axis", split_axis, inp.shape, n)
    comm, dev = state
    x = _to_axis0(inp, split_axis, n)
    fn = _AllToAll(group, comm, dev)
    fn.out_sd = (x.shape, inp.dtype)
    out = fn(x)
    final = list(inp.shape)
    final[split_axis] //= n
    final[concat_axis] *= n
    if concat_axis == 0:
        return _to(out.reshape(final) if split_axis != 0 else out, device)
    return _to(_from_axis0(out, concat_axis, n, final), device)


# ---------------------------------------------------------------------------- rooted
class _ReduceSum(_Collective):
    def forward(self, x):
        out = self.comm.reduce(x._storage.array, "sum", root=0)
        # non-root ranks get a one-element placeholder (MegEngine's shape {1})
        return _wrap(out, self.dev) if out is not None else _zeros((1,), x.dtype, self.dev)

    def backward(self, dy):
        if self.group.rank == 0:
            return broadcast(_grad_or_zeros(dy, self.dev, self.in_sd), self.group)
        return broadcast(_zeros((1,), self.in_sd[1], self.dev), self.group)


class _Broadcast(_Collective):
    def forward(self, x):
        return _wrap(self.comm.broadcast(x._storage.array, root=0), self.dev)

    def backward(self, dy):
        g = reduce_sum(_grad_or_zeros(dy, self.dev, self.in_sd), self.group)
        return g if self.group.rank == 0 else None


class _Gather(_Collective):
    def forward(self, x):
        out = self.comm.gather(x._storage.array, root=0)
        return _wrap(out, self.dev) if out is not None else _zeros((1,), x.dtype, self.dev)

    def backward(self, dy):
        full_shape = ((self.in_sd[0][0] * self.group.size,) + tuple(self.in_sd[0][1:]),
                      self.in_sd[1])
        src = _grad_or_zeros(dy, self.dev, full_shape) if self.group.rank == 0 else \
            _zeros((1,), self.in_sd[1], self.dev)
        return scatter(src, self.group)


class _Scatter(_Collective):
    def forward(self, x):
        return _wrap(self.comm.scatter(x._storage.array, self.full_shape, x.dtype, root=0),
                     self.dev)

    def backward(self, dy):
        g = gather(_grad_or_zeros(dy, self.dev, self.out_sd), self.group)
        return g if self.group.rank == 0 else None


def reduce_sum(inp, group=WORLD, device=None):
    r"""Reduce tensor data across the specified group by sum. Only the root process (the
    group's first rank) receives the result.

    Args:
        inp: Input tensor (identical shape on every rank).
        group: The process group to work on. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).

    Returns:
        The sum in the root process, None in the others (whose part of the graph is kept for
        the backward: the root's gradient reaches them).

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.reduce_sum(mge.tensor([1.0, 2.0])).numpy()
        array([1., 2.], dtype=float32)
    """
    name = "reduce_sum"
    state, group = _symmetric(inp, group, name)
    if state is None:
        return _to(inp, device)
    comm, dev = state
    fn = _ReduceSum(group, comm, dev)
    fn.in_sd = (inp.shape, inp.dtype)
    out = fn(inp)
    if group.rank == 0:
        return _to(out, device)
    if out._node is not None:
        _gm._keep_for_backward(out)
    return None


def broadcast(inp, group=WORLD, device=None):
    r"""Broadcast tensor data from the root process (the group's first rank) to the others.

    Args:
        inp: Input tensor; only the root's value (and shape) matters.
        group: The process group to work on. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).

    Returns:
        The root's tensor, on every rank.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.broadcast(mge.tensor([1.0, 2.0])).numpy()
        array([1., 2.], dtype=float32)
    """
    name = "broadcast"
    _check_tensor(inp, name)
    group = _as_group(group, name)
    if _single(group):
        return _to(inp, device)
    dev = inp._storage.device
    comm = _comm_for(group, dev)
    root = group.rank == 0
    agreed = comm.agree(name, inp.shape if root else None, inp.dtype if root else None,
                        tracked=_tracked(inp) if root else None)
    _check_agreed_ndim(agreed, name)
    if not root:
        inp = _dummy(agreed.shape, agreed.dtype, dev, agreed.tracked)
    fn = _Broadcast(group, comm, dev)
    fn.in_sd = (inp.shape, inp.dtype)
    return _to(fn(inp), device)


def gather(inp, group=WORLD, device=None, axis=0):
    r"""Gather tensors across the specified group; only the root process (the group's first
    rank) receives the result.

    Args:
        inp: Input tensor (identical shape on every rank).
        group: The process group to work on. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).
        axis: The concat axis. Default: 0.

    Returns:
        The inputs concatenated in group-rank order along ``axis`` in the root, None in the
        others.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.gather(mge.tensor([1.0])).numpy()
        array([1.], dtype=float32)
    """
    name = "gather"
    state, group = _symmetric(inp, group, name, min_ndim=1)
    if state is None:
        return _to(inp, device)
    axis = _axis(axis, inp.ndim, name)
    comm, dev = state
    fn = _Gather(group, comm, dev)
    fn.in_sd = (inp.shape, inp.dtype)
    out = fn(inp)
    if group.rank != 0:
        if out._node is not None:
            _gm._keep_for_backward(out)
        return None
    n = group.size
    final = list(inp.shape)
    final[axis] *= n
    return _to(_from_axis0(out, axis, n, final), device)


def scatter(inp, group=WORLD, device=None, axis=0):
    r"""Split the root's tensor along ``axis`` and send chunk r to group rank r.

    Args:
        inp: Input tensor; only the root's value matters (``axis`` divisible by the group size).
        group: The process group to work on. Default: ``WORLD``.
        device: the device of the result (None: ``inp``'s).
        axis: The split axis. Default: 0.

    Returns:
        This rank's chunk.

    Examples:
        >>> import engine as mge
        >>> import engine.distributed as dist
        >>> dist.functional.scatter(mge.tensor([1.0, 2.0])).numpy()
        array([1., 2.], dtype=float32)
    """
    name = "scatter"
    _check_tensor(inp, name)
    group = _as_group(group, name)
    if _single(group):
        return _to(inp, device)
    dev = inp._storage.device
    comm = _comm_for(group, dev)
    root = group.rank == 0
    n = group.size
    # the root's shape comes with the agreement; every rank then checks it alike
    agreed = comm.agree(name, inp.shape if root else None, inp.dtype if root else None,
                        tracked=_tracked(inp) if root else None)
    _check_agreed_ndim(agreed, name)
    shape = agreed.shape
    axis = _axis(axis, max(len(shape), 1), name)
    _check_divisible(name, "axis", axis, shape, n, whose="the root's ")
    stacked = list(shape)
    stacked[axis] //= n
    stacked[0] *= n
    inp = _to_axis0(inp, axis, n) if root else \
        _dummy(tuple(stacked), agreed.dtype, dev, agreed.tracked)
    fn = _Scatter(group, comm, dev)
    fn.full_shape = tuple(stacked)
    fn.out_sd = ((stacked[0] // n,) + tuple(stacked[1:]), inp.dtype)
    return _to(fn(inp), device)


def _bcast_param(inp, group=WORLD, device=None):
    """Broadcast from the group's root without a graph (parameters at the start)."""
    group = _as_group(group, "bcast_param")
    if _single(group):
        return inp
    dev = inp._storage.device
    comm = _comm_for(group, dev)
    comm.agree("broadcast", inp.shape, inp.dtype)
    return _wrap(comm.broadcast(inp._storage.array, root=0), dev)



_MODES = {"ALL_REDUCE_SUM": all_reduce_sum, "ALL_REDUCE_MAX": all_reduce_max,
          "ALL_REDUCE_MIN": all_reduce_min, "ALL_GATHER": all_gather,
          "REDUCE_SCATTER_SUM": reduce_scatter_sum, "REDUCE_SUM": reduce_sum,
          "BROADCAST": broadcast, "GATHER": gather, "SCATTER": scatter,
          "ALL_TO_ALL": all_to_all}


def collective_comm(inp, mode, group, device):
    r"""Helper function for applying collective communication functions by mode.

    Args:
        inp: the input tensor.
        mode: the collective's name as MegEngine's CollectiveComm.Mode spells it
            ("ALL_REDUCE_SUM", "BROADCAST", ...), or an object with such a ``name``.
        group: the process group (None: the input unchanged).
        device: the device of the result (None: ``inp``'s).
    """
    if group is None:
        return inp
    key = getattr(mode, "name", mode)
    fn = _MODES.get(str(key).upper())
    if fn is None:
        raise ValueError(f"collective_comm: unknown mode {mode!r}; expected one of "
                         f"{sorted(_MODES)}")
    return fn(inp, group, device)
