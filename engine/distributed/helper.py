"""Helpers for data-parallel training (MegEngine's engine.distributed.helper).

    gm = GradManager().attach(model.parameters(), callbacks=[dist.make_allreduce_cb("mean")])
    dist.bcast_list_(model.parameters())        # every rank starts from rank 0's values

The all-reduce callback packs gradients into buckets (by dtype, about 10 MB each, MegEngine's
threshold), so that many small gradients travel in one message; the buckets are reduced when
the backward's gradients are all there, then split back.
"""
import functools
from collections import defaultdict

import numpy as np

from .. import device as _device
from ..autodiff import grad_manager as _gm
from ..tensor import Tensor
from . import group as _group
from ._plumbing import _single
from .functional import _bcast_param, all_reduce_sum
from .group import WORLD, group_barrier, is_distributed

__all__ = ["bcast_list_", "make_allreduce_cb", "AllreduceCallback", "synchronized",
           "get_device_count_by_fork", "all_gather_object", "param_pack_split",
           "param_pack_concat", "get_offsets", "pack_allreduce_split", "TensorFuture"]


def synchronized(func):
    r"""Decorator: the function runs, then all ranks wait at a barrier before returning (so
    that, say, rank 0 writing a file is finished before the others read it)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ret = func(*args, **kwargs)
        if is_distributed():
            group_barrier()
        return ret

    return wrapper


def get_device_count_by_fork(device_type):
    r"""The number of devices of ``device_type``, counted in a forked child when this process
    has not touched CUDA yet: a process that initialised CUDA cannot fork workers that use it,
    so the launcher must not initialise it just to count the GPUs (MegEngine forks for the same
    reason)."""
    if device_type not in ("gpu", "cuda", "xpu") or _device._cupy_checked:
        return _device.get_device_count(device_type)
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    parent_end, child_end = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_count_in_child, args=(child_end, device_type), daemon=True)
    proc.start()
    child_end.close()
    try:
        count = parent_end.recv() if parent_end.poll(60) else 0
    except EOFError:
        count = 0
    proc.join(10)
    return count


def _count_in_child(conn, device_type):
    try:
        conn.send(_device.get_device_count(device_type))
    finally:
        conn.close()


def bcast_list_(inps, group=WORLD):
    r"""Broadcast tensors between given group, in place: every rank gets the root's values.

    Args:
        inps(List[Tensor]): input tensors.
        group(Group): communication group. Default: WORLD.
    """
    for inp in inps:
        inp._reset(_bcast_param(inp, group))


def all_gather_object(obj, group=WORLD):
    r"""Every rank's picklable ``obj``, as a list in group-rank order (engine's extension, like
    torch.distributed.all_gather_object; used to gather evaluation results).

    Examples:
        >>> import engine.distributed as dist
        >>> dist.all_gather_object({"ap": 0.5})   # one process
        [{'ap': 0.5}]
    """
    from ._plumbing import _as_group

    group = _as_group(group, "all_gather_object")
    if _single(group):
        return [obj]
    comm = group.comm("numpy")
    comm.agree("all_gather_object")
    return comm.allgather_object(obj)


# ---------------------------------------------------------------------------- packing
def get_offsets(shapes):
    r"""Start and end offsets of each shape in one flat buffer: [s0, e0, s1, e1, ...]."""
    offsets, offset = [], 0
    for shape in shapes:
        offsets.append(offset)
        offset += int(np.prod(shape))
        offsets.append(offset)
    return offsets


def param_pack_concat(inps, offsets=None, offsets_val=None):
    r"""Flatten and concatenate tensors into one (MegEngine's packing; offsets unused)."""
    import engine.functional as F

    return F.concat([F.flatten(x) for x in inps])


def param_pack_split(inp, offsets, shapes):
    r"""Split a packed flat tensor back into tensors of ``shapes`` (offsets from
    :func:`get_offsets`)."""
    return [inp[offsets[2 * i]:offsets[2 * i + 1]].reshape(shape)
            for i, shape in enumerate(shapes)]


def pack_allreduce_split(pack_list, shapes, group, reduce_method):
    r"""All-reduce a list of tensors as one message, then split them back."""
    offsets = get_offsets(shapes)
    packed = all_reduce_sum(param_pack_concat(pack_list), group)
    if reduce_method == "mean":
        packed = packed / group.size
    return param_pack_split(packed, offsets, shapes)


class TensorFuture:
    """A gradient that the bucketed all-reduce delivers after the backward (``ack``: MegEngine's
    argument, no effect)."""

    __slots__ = ("_value", "_set")

    def __init__(self, ack=True):
        self._value, self._set = None, False

    def set(self, value):
        self._value, self._set = value, True

    def get(self):
        if not self._set:
            raise RuntimeError("TensorFuture.get: the all-reduce of this gradient did not run "
                               "(its GradManager's backward did not finish)")
        return self._value


class AllreduceCallback:
    r"""Allreduce Callback with tensor fusion optimization (MegEngine's make_allreduce_cb).

    Args:
        reduce_method(str): the method to reduce gradients: "sum" or "mean".
        group(Group): communication group. Default: WORLD.
        backend(str): override the distributed backend for this all-reduce; accepted, the
            group's backend moves the data (MPI on the CPU, NCCL on GPUs).

    Examples:
        .. code-block:: python

            gm = GradManager()
            gm.attach(model.parameters(), callbacks=[dist.make_allreduce_cb("mean")])
    """

    _param_pack_thd = 10 * 1024 * 1024  # bytes per bucket (MegEngine's threshold)

    def __init__(self, reduce_method, group=WORLD, backend=None):
        if not isinstance(reduce_method, str) or reduce_method.lower() not in ("sum", "mean"):
            raise ValueError(f"make_allreduce_cb: reduce_method should be 'sum' or 'mean', got "
                             f"{reduce_method!r}")
        self._reduce_method = reduce_method.lower()
        self._group = group
        self._backend = backend
        self._reset()

    def _reset(self):
        self._pending = defaultdict(list)   # dtype name -> [(future, grad)]
        self._bytes = defaultdict(int)

    def __call__(self, param, grad):
        if _single(self._group):
            return grad
        gm = _gm.get_backwarding_grad_manager()
        if gm is None:  # called outside a backward: reduce at once
            return self._reduce_now([grad])[0]
        if self._flush not in gm._after_backward:
            # first gradient of this backward: what a failed backward left is dropped
            self._reset()
            gm._register_after_backward_callback(self._flush)
        future = TensorFuture()
        key = grad.dtype.name if hasattr(grad.dtype, "name") else str(grad.dtype)
        self._pending[key].append((future, grad))
        self._bytes[key] += grad._storage.array.nbytes
        if self._bytes[key] > self._param_pack_thd:
            self._pack(key)
        return future

    def _pack(self, key):
        entries = self._pending.pop(key, [])
        self._bytes.pop(key, None)
        if not entries:
            return
        for (future, _), g in zip(entries, self._reduce_now([g for _, g in entries])):
            future.set(g)

    def _reduce_now(self, grads):
        """One all-reduce for all of `grads` (same dtype and device): pack, reduce, split."""
        return pack_allreduce_split(grads, [g.shape for g in grads], self._group,
                                    self._reduce_method)

    def _flush(self):
        for key in sorted(self._pending):
            self._pack(key)
        self._reset()


make_allreduce_cb = AllreduceCallback

del Tensor, _group
