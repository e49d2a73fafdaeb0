"""What the collectives share: groups, agreement-checked communicators, tensors made from
their raw results, and the axis moves of the gather family."""
import itertools

import numpy as np

from ..allocator import Storage
from ..autodiff.function import Function
from ..ops import core
from ..tensor import Tensor
from . import group as _group
from .group import WORLD, Group

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


def _zeros(shape, dtype, dev):
    """Zeros as a collective's tensor: a placeholder input or output, or a missing gradient
    (a peer still takes part in the exchange)."""
    return _wrap(dev.xp.zeros(shape, dtype=dtype), dev)


def _dummy(shape, dtype, dev, tracked):
    """A placeholder input on a rank that has no data of its own (broadcast, scatter, recv).
    When the peer records gradients it is made part of the graph, so that this rank's
    backward runs the collective's gradient too (MegEngine broadcasts the tracer state)."""
    t = _zeros(shape, _np_dtype(dtype), dev)
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


class _Collective(Function):
    """Base of the differentiable collectives: forward on raw arrays, backward through
    another collective. A peer waits for each backward's message, so autodiff runs it even
    where no gradient is needed on this rank (`_remote_backward`)."""

    _remote_backward = True

    def __init__(self, group, comm, dev):
        self.group, self.comm, self.dev = group, comm, dev
        self._seq = next(_forward_order)  # backward runs collectives in reverse of this


def _grad_or_zeros(dy, dev, shape_dtype):
    if dy is not None:
        return dy
    return _zeros(*shape_dtype, dev)


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


def _check_divisible(name, label, axis, shape, n, whose=""):
    """Raise unless `shape` splits in `n` along `axis` (after the agreement: on every rank)."""
    if not shape or shape[axis] % n:
        raise ValueError(f"{name}: {label} {axis} of {whose}shape {shape} is not divisible by "
                         f"the group size {n}")


def _check_agreed_ndim(agreed, name):
    if agreed.ndim is not None and agreed.shape is None:
        raise ValueError(f"{name}: the root's tensor has {agreed.ndim} dims; at most 8 can be "
                         "sent to ranks that do not know its shape")
