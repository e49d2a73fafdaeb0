"""Indexing: Tensor.__getitem__ / __setitem__ and gather/scatter along an axis.

Indices are normalised once (Tensors and lists become backend integer/bool arrays) and travel
as the op attribute `index`, so backward and recomputation see exactly the same index.
"""
import numpy as np

from ..tensor import Tensor
from .core import Op
from .elemwise import Cast, _const, sum_to
from .shape import _add_at


def _norm_index(x, index):
    """The index as a tuple for the backend: Tensors and lists become backend arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    xp = x._storage.device.xp
    out, used, ellipsis = [], 0, False
    for i in index:
        if isinstance(i, Tensor):
            if i._storage.device is not x._storage.device:
                raise ValueError(f"getitem: index on {i.device} cannot index a tensor on "
                                 f"{x.device}")
            i = i._storage.array
        if i is None:
            out.append(None)
            continue
        if i is Ellipsis:
            if ellipsis:
                raise IndexError("getitem: an index can only have a single ellipsis ('...')")
            ellipsis = True
            out.append(i)
            continue
        if isinstance(i, slice):
            out.append(slice(*(None if v is None else _int(v) for v in
                               (i.start, i.stop, i.step))))
            if i.step is not None and out[-1].step == 0:
                raise ValueError("getitem: slice step cannot be zero")
            used += 1
            continue
        if isinstance(i, (bool, np.bool_)):
            out.append(bool(i))
            continue
        if isinstance(i, (int, np.integer)):
            out.append(int(i))
            used += 1
            continue
        arr = i if hasattr(i, "dtype") and hasattr(i, "shape") else np.asarray(i)
        if arr.size == 0 and arr.dtype.kind not in "biu":
            arr = np.zeros(arr.shape, np.int64)  # np.array([]) is float64: no index, any dtype
        if arr.dtype.kind == "b":
            used += arr.ndim
        elif arr.dtype.kind in "iu":
            if arr.ndim == 0:
                out.append(int(arr))
                used += 1
                continue
            used += 1
        else:
            raise TypeError(f"getitem: indices must be integers, slices, None, Ellipsis or "
                            f"integer/bool arrays, got an array of dtype {arr.dtype}")
        out.append(xp.asarray(arr))
    if used > x.ndim:
        raise IndexError(f"getitem: too many indices ({used}) for a tensor of shape {x.shape}")
    return tuple(out)


def _int(v):
    try:
        return int(v.__index__())
    except AttributeError:
        raise TypeError(f"getitem: slice bounds must be integers, got {type(v).__name__}") from None


class GetItem(Op):
    view = True

    def forward(xp, x, index):
        return x[index]

    def backward(ctx, dy):
        return GetItemGrad.apply(dy, index=ctx.attrs["index"], shape=ctx.inputs[0].shape)


class GetItemGrad(Op):
    """Adjoint of GetItem: dy added into zeros at the indexed positions (repeats accumulate)."""

    def forward(xp, dy, index, shape):
        out = xp.zeros(shape, dy.dtype)
        _add_at(xp, out, index, dy)
        return out

    def backward(ctx, ddx):
        return GetItem.apply(ddx, index=ctx.attrs["index"])


class SetItem(Op):
    """out = copy of x with out[index] = v (v broadcast to the indexed shape)."""

    def forward(xp, x, v, index):
        out = x.copy()
        out[index] = v
        return out

    def backward(ctx, dy):
        x, v = ctx.inputs
        index = ctx.attrs["index"]
        dx = SetItem.apply(dy, _const(0, dy.dtype, dy._storage.device), index=index)
        return dx, sum_to(GetItem.apply(dy, index=index), v.shape)


def getitem(x, index):
    idx = _norm_index(x, index)
    return GetItem.apply(x, index=idx)


def setitem(x, index, value):
    idx = _norm_index(x, index)
    if not isinstance(value, Tensor):
        value = Tensor(value, dtype=x.dtype, device=x.device)
    elif value._storage.device is not x._storage.device:
        raise ValueError(f"setitem: value on {value.device} cannot be written into a tensor on "
                         f"{x.device}")
    if value.dtype != x.dtype:
        value = Cast.apply(value, dtype=x.dtype)
    return SetItem.apply(x, value, index=idx)


def _along_axis(xp, index, axis):
    """Full index tuple addressing out[..., index, ...] elementwise along `axis`."""
    grids = list(xp.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


class Gather(Op):
    """out[i][j][k] = x[i][index[i][j][k]][k] (axis=1): numpy's take_along_axis."""

    def forward(xp, x, index, axis):
        return xp.take_along_axis(x, index, axis=axis)

    def backward(ctx, dy):
        x, index = ctx.inputs
        return GatherGrad.apply(dy, index, axis=ctx.attrs["axis"], shape=x.shape), None


class GatherGrad(Op):
    """Adjoint of Gather: dy scatter-added along `axis` into zeros of `shape`."""

    def forward(xp, dy, index, axis, shape):
        out = xp.zeros(shape, dy.dtype)
        _add_at(xp, out, _along_axis(xp, index, axis), dy)
        return out

    def backward(ctx, ddx):
        return Gather.apply(ddx, ctx.inputs[1], axis=ctx.attrs["axis"]), None


class Scatter(Op):
    """out = x with out[i][index[i][j]][...] = source[i][j][...] along `axis` (last write wins)."""

    def forward(xp, x, index, source, axis):
        out = x.copy()
        out[_along_axis(xp, index, axis)] = source
        return out

    def backward(ctx, dy):
        x, index, source = ctx.inputs
        axis = ctx.attrs["axis"]
        zeros = Tensor(np.zeros(source.shape, dy.dtype), device=dy.device)
        return (Scatter.apply(dy, index, zeros, axis=axis), None,
                Gather.apply(dy, index, axis=axis))


class CondTake(Op):
    """(x[mask], flat indices of the True positions as int32)."""

    n_outputs = 2
    save_outputs = True

    def forward(xp, mask, x):
        flat = xp.flatnonzero(mask.reshape(-1))
        return x.reshape(-1)[flat], flat.astype("int32")

    def backward(ctx, dv, di):
        mask, x = ctx.inputs
        idx = ctx.outputs[1]
        from .shape import Reshape

        flat = GetItemGrad.apply(dv, index=(idx._storage.array,), shape=(x.size,))
        return None, Reshape.apply(flat, shape=x.shape)
