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
import itertools

import numpy as np

from .. import device as _device
from ..allocator import Storage
from ..autodiff import grad_manager as _gm
from ..autodiff.function import Function
from ..ops import core
from ..tensor import Tensor
from . import group as _group
from ._comm import is_no_grad, no_grad_meta, p2p_meta, parse_meta
from .group import WORLD, Group, get_rank

__all__ = ["reduce_sum", "broadcast", "all_gather", "reduce_scatter_sum", "all_reduce_sum",
           "all_reduce_max", "all_reduce_min", "gather", "scatter", "all_to_all",
           "remote_send", "remote_recv"]

_FWD_TAG, _BWD_TAG = 11, 21
_forward_order = itertools.count(1)


# ---------------------------------------------------------------------------- plumbing
def _single(group):
    """True when there is nobody to talk to: collectives are identities."""
    sd = _group._sd
    return sd is None or sd.world_size == 1 or (group is not WORLD and group.size == 1)


_list_groups = {}


def _as_group(group, name):
    if isinstance(group, Group):
        return group
    if isinstance(group, (list, tuple)):
        key = tuple(group)
        g = _list_groups.get(key)
        if g is None:
            g = _list_groups[key] = Group(list(group))
        return g
    raise TypeError(f"{name}: group must be a Group or a list of ranks, got "
                    f"{type(group).__name__}")


def _check_tensor(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")


def _comm_for(group, dev):
    return group.comm("cupy" if dev.type == "gpu" else "numpy")


def _tracked(x):
    return bool(core.recording) and x is not None and x._node is not None


def _wrap(array, dev):
    """A collective's result as a Tensor of its own. `Storage` is the plain class, bound at
    import: DTR swaps the class that ops allocate with, so these storages have no producer
    record and are never evicted (a recompute on one rank alone would wait forever)."""
    if isinstance(array, np.generic):
        array = np.asarray(array)
    return core._tensor(Storage(array, dev))


def _dummy(shape, dtype, dev, tracked):
    """A placeholder input on a rank that has no data of its own (broadcast, scatter, recv).
    When the peer records gradients it is made part of the graph, so that this rank's
    backward runs the collective's gradient too (MegEngine broadcasts the tracer state)."""
    t = _wrap(dev.xp.zeros(shape, dtype=_np_dtype(dtype)), dev)
    if tracked and core.recording:
        t._node = core.LeafNode()
    return t


def _np_dtype(name):
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(name)


def _to(t, device):
    if t is None or device is None:
        return t
    name = device if isinstance(device, str) else str(device)
    name = name.split(":")[0]  # MegEngine's "gpu0:1" names a stream: engine has one per device
    return t if t.device == name else t.to(name)


def _out_device(x, device):
    return _device.get(device.split(":")[0]) if isinstance(device, str) else \
        _device.get(device) if device is not None else x._storage.device


class _Collective(Function):
    """Base of the differentiable collectives: forward on raw arrays, backward through
    another collective. A peer waits for each backward's message, so autodiff runs it even
    where no gradient is needed on this rank (`_remote_backward`)."""

    _remote_backward = True

    def __init__(self, group, comm, dev):
        self.group, self.comm, self.dev = group, comm, dev
        self._seq = next(_forward_order)  # backward runs collectives in reverse of this


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


def _grad_or_zeros(dy, dev, shape_dtype):
    if dy is not None:
        return dy
    shape, dtype = shape_dtype
    return _wrap(dev.xp.zeros(shape, dtype=dtype), dev)


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


def _axis(axis, ndim, name):
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{name}: axis {axis!r} out of range for a {ndim}-d tensor")
    return int(axis) % max(ndim, 1)


def _to_axis0(x, axis, n):
    """Put the `n` equal chunks along `axis` one after another along axis 0."""
    if axis == 0:
        return x
    shape = list(x.shape)
    split = shape[:axis] + [n, shape[axis] // n] + shape[axis + 1:]
    order = [axis] + list(range(axis)) + list(range(axis + 1, x.ndim + 1))
    merged = list(shape)
    merged[axis] //= n
    merged[0] *= n
    return x.reshape(split).transpose(order).reshape(merged)


def _from_axis0(out, axis, n, final_shape):
    """Undo `_to_axis0` for a result whose n chunks are stacked along axis 0."""
    if axis == 0:
        return out
    first, *rest = out.shape
    order = list(range(1, axis + 1)) + [0] + list(range(axis + 1, out.ndim + 1))
    return out.reshape([n, first // n] + rest).transpose(order).reshape(final_shape)


def _symmetric(inp, group, name, min_ndim=0):
    """Agree on a collective whose inputs have one shape on every rank; (comm, device), group.
    Checks that depend on the shape run after the agreement, so every rank raises alike."""
    _check_tensor(inp, name)
    group = _as_group(group, name)
    if _single(group):
        return None, group
    dev = inp._storage.device
    comm = _comm_for(group, dev)
    comm.agree(name, inp.shape, inp.dtype, tracked=_tracked(inp))
    if inp.ndim < min_ndim:
        raise ValueError(f"{name}: needs a tensor of at least {min_ndim} dim, got shape "
                         f"{inp.shape} (reshape a scalar to (1,) first)")
    return (comm, dev), group


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
    if inp.shape[axis] % n:
        raise ValueError(f"{name}: axis {axis} of shape {inp.shape} is not divisible by the "
                         f"group size {n}")
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
    if inp.shape[split_axis] % n:
        raise ValueError(f"{name}: split_axis {split_axis} of shape {inp.shape} is not "
                         f"divisible by the group size {n}")
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
        return _wrap(out if out is not None else self.dev.xp.zeros((1,), x.dtype), self.dev)

    def backward(self, dy):
        if self.group.rank == 0:
            return broadcast(_grad_or_zeros(dy, self.dev, self.in_sd), self.group)
        return broadcast(_wrap(self.dev.xp.zeros((1,), self.in_sd[1]), self.dev), self.group)


class _Broadcast(_Collective):
    def forward(self, x):
        return _wrap(self.comm.broadcast(x._storage.array, root=0), self.dev)

    def backward(self, dy):
        g = reduce_sum(_grad_or_zeros(dy, self.dev, self.in_sd), self.group)
        return g if self.group.rank == 0 else None


class _Gather(_Collective):
    def forward(self, x):
        out = self.comm.gather(x._storage.array, root=0)
        return _wrap(out if out is not None else self.dev.xp.zeros((1,), x.dtype), self.dev)

    def backward(self, dy):
        full_shape = ((self.in_sd[0][0] * self.group.size,) + tuple(self.in_sd[0][1:]),
                      self.in_sd[1])
        src = _grad_or_zeros(dy, self.dev, full_shape) if self.group.rank == 0 else \
            _wrap(self.dev.xp.zeros((1,), self.in_sd[1]), self.dev)
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
    if not shape or shape[axis] % n:
        raise ValueError(f"{name}: axis {axis} of the root's shape {shape} is not divisible by "
                         f"the group size {n}")
    stacked = list(shape)
    stacked[axis] //= n
    stacked[0] *= n
    inp = _to_axis0(inp, axis, n) if root else \
        _dummy(tuple(stacked), agreed.dtype, dev, agreed.tracked)
    fn = _Scatter(group, comm, dev)
    fn.full_shape = tuple(stacked)
    fn.out_sd = ((stacked[0] // n,) + tuple(stacked[1:]), inp.dtype)
    return _to(fn(inp), device)


def _check_agreed_ndim(agreed, name):
    if agreed.ndim is not None and agreed.shape is None:
        raise ValueError(f"{name}: the root's tensor has {agreed.ndim} dims; at most 8 can be "
                         "sent to ranks that do not know its shape")


# ---------------------------------------------------------------------------- point to point
class _RemoteSend(_Collective):
    def __init__(self, comm, dev, dest):
        super().__init__(None, comm, dev)
        self.dest = dest

    def forward(self, x):
        a = x._storage.array
        self.comm.send(a, self.dest, p2p_meta(a.shape, a.dtype, True), _FWD_TAG)
        self.in_sd = (a.shape, a.dtype)
        return _wrap(self.dev.xp.zeros((1,), a.dtype), self.dev)

    def backward(self, dy):
        meta = self.comm.recv_meta(self.dest, _BWD_TAG)
        if is_no_grad(meta):  # the receiver records no gradient: none comes back
            return None
        shape, dtype, _ = parse_meta(meta)
        return _wrap(self.comm.recv(self.dest, shape, _np_dtype(dtype), _BWD_TAG), self.dev)


class _RemoteRecv(_Collective):
    def __init__(self, comm, dev, src, array):
        super().__init__(None, comm, dev)
        self.src, self.array = src, array

    def forward(self, dummy):
        array, self.array = self.array, None
        self.out_sd = (array.shape, array.dtype)
        return _wrap(array, self.dev)

    def backward(self, dy):
        g = _grad_or_zeros(dy, self.dev, self.out_sd)._storage.array
        self.comm.send(g, self.src, p2p_meta(g.shape, g.dtype, False), _BWD_TAG)
        return None


def _p2p_comm(peer, name):
    sd = _group._sd
    if sd is None or sd.world_size == 1:
        raise RuntimeError(f"{name}: there is no other process to talk to (not in a "
                           "distributed job; start one with dist.launcher or mpiexec)")
    if not isinstance(peer, (int, np.integer)) or not 0 <= peer < sd.world_size \
            or peer == sd.proc_rank:
        raise ValueError(f"{name}: the peer rank must be another rank in [0, {sd.world_size}), "
                         f"got {peer!r} (this is rank {sd.proc_rank})")
    return int(peer)


def remote_send(inp, dest_rank):
    r"""Send tensor to another process.

    Args:
        inp: Tensor to send.
        dest_rank: Rank of destination process.

    Returns:
        None. When gradients are recorded, the gradient of ``inp`` arrives from the destination
        during ``gm.backward()``.

    Examples:
        .. code-block:: python

            if rank == 0:
                F.distributed.remote_send(mge.tensor(1), 1)
            else:
                data = F.distributed.remote_recv(0)   # Tensor(1)
    """
    name = "remote_send"
    _check_tensor(inp, name)
    dest = _p2p_comm(dest_rank, name)
    if inp.ndim > 8:
        raise ValueError(f"{name}: tensors of more than 8 dims cannot be sent, got {inp.shape}")
    dev = inp._storage.device
    comm = _comm_for(WORLD, dev)
    if not _tracked(inp):
        a = inp._storage.array
        comm.send(a, dest, p2p_meta(a.shape, a.dtype, False), _FWD_TAG)
        return None
    out = _RemoteSend(comm, dev, dest)(inp)
    _gm._keep_for_backward(out)
    return None


def remote_recv(src_rank, device=None, inp=None):
    r"""Receive a tensor from another process.

    Args:
        src_rank: Rank of source process.
        device: the device of the result (None: the default device).
        inp: Dummy input (MegEngine's, to place the result): its device is used when
            ``device`` is None.

    Returns:
        Received tensor (its shape and dtype are the sender's).

    Examples:
        .. code-block:: python

            if rank == 0:
                F.distributed.remote_send(mge.tensor(1), 1)
            else:
                data = F.distributed.remote_recv(0)   # Tensor(1)
    """
    name = "remote_recv"
    src = _p2p_comm(src_rank, name)
    dev = _device.get(device.split(":")[0]) if isinstance(device, str) else (
        _device.get(device) if device is not None else
        inp._storage.device if isinstance(inp, Tensor) else _device.get_default_device_obj())
    comm = _comm_for(WORLD, dev)
    shape, dtype, tracked = parse_meta(comm.recv_meta(src, _FWD_TAG))
    array = comm.recv(src, shape, _np_dtype(dtype), _FWD_TAG)
    if not tracked:
        return _wrap(array, dev)
    if not core.recording:  # the sender waits for a gradient in its backward: say none comes
        comm.send(None, src, no_grad_meta(), _BWD_TAG)
        return _wrap(array, dev)
    out = _RemoteRecv(comm, dev, src, array)(_dummy((1,), dtype, dev, True))
    # its backward answers the sender even if out goes unused
    _gm._keep_for_backward(out, only_if_attached=False)
    return out


def _remote_send_nobackward(inp, dest_rank):
    dest = _p2p_comm(dest_rank, "remote_send")
    a = inp._storage.array
    _comm_for(WORLD, inp._storage.device).send(a, dest, p2p_meta(a.shape, a.dtype, False), 31)


def _remote_recv_nobackward(src_rank, device=None, inp=None, shape=None, dtype=None):
    src = _p2p_comm(src_rank, "remote_recv")
    dev = _device.get(device.split(":")[0]) if isinstance(device, str) else (
        _device.get(device) if device is not None else _device.get_default_device_obj())
    comm = _comm_for(WORLD, dev)
    got_shape, got_dtype, _ = parse_meta(comm.recv_meta(src, 31))
    return _wrap(comm.recv(src, got_shape, _np_dtype(got_dtype), 31), dev)


def _bcast_param(inp, group=WORLD, device=None):
    """Broadcast from the group's root without a graph (parameters at the start)."""
    group = _as_group(group, "bcast_param")
    if _single(group):
        return inp
    dev = inp._storage.device
    comm = _comm_for(group, dev)
    comm.agree("broadcast", inp.shape, inp.dtype)
    return _wrap(comm.broadcast(inp._storage.array, root=0), dev)


del get_rank


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
