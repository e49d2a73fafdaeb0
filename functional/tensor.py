"""Tensor creation and manipulation (MegEngine names and arguments)."""
import builtins

import numpy as np

from engine import device as _dev
from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import indexing as I
from engine.ops import shape as S
from engine.tensor import Tensor

from ._utils import as_tensor, norm_axis, one_axis, shape_tuple

__all__ = [
    "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "eye", "arange",
    "linspace", "concat", "stack", "split", "gather", "scatter", "cond_take", "expand_dims",
    "squeeze", "flatten", "reshape", "transpose", "broadcast_to", "repeat", "tile", "flip",
    "roll", "copy", "where", "astype",
]


def _value_dtype(value):
    """MegEngine's dtype for F.full without one: bool, int32 for ints, float32 otherwise."""
    if isinstance(value, (bool, np.bool_)):
        return _dt.bool_
    if isinstance(value, (int, np.integer)):
        return _dt.int32
    if isinstance(value, Tensor):
        return value.dtype
    return _dt.float32


def full(shape, value, dtype=None, device=None):
    """A tensor of `shape` filled with `value`; without a dtype it follows the value (bool,
    int32 for ints, float32 for floats), as MegEngine.

    Args:
        shape: int or tuple of ints.
        value: the fill value.
        dtype: the result dtype (None: inferred from value).
        device: where to create it.

    Returns:
        the filled tensor.

    Examples:
        >>> F.full((2, 2), 3).numpy()
        array([[3, 3],
               [3, 3]], dtype=int32)
    """
    shape = shape_tuple(shape, "full")
    if builtins.any(s < 0 for s in shape):
        raise ValueError(f"full: negative dimension in shape {shape}")
    if isinstance(value, Tensor):
        value = value.item()
    dt = _value_dtype(value) if dtype is None else _dt.canonical(dtype)
    dev = _dev.get(device)
    return Tensor(dev.xp.full(shape, value, dtype=dt), device=dev)


def zeros(shape, dtype="float32", device=None):
    return full(shape, 0, "float32" if dtype is None else dtype, device)


def ones(shape, dtype="float32", device=None):
    return full(shape, 1, "float32" if dtype is None else dtype, device)


def full_like(inp, value):
    inp = as_tensor(inp, "full_like")
    return full(inp.shape, value, inp.dtype, inp.device)


def zeros_like(inp):
    return full_like(inp, 0)


def ones_like(inp):
    return full_like(inp, 1)


def eye(N, M=None, *, dtype="float32", device=None):
    """An (N, M) matrix with ones on the diagonal; N may also be the shape (a sequence or a
    Tensor), as MegEngine's F.eye([rows, cols])."""
    if isinstance(N, Tensor):
        N = N.tolist()
    if isinstance(N, (list, tuple)):
        if len(N) not in (1, 2) or M is not None:
            raise ValueError(f"eye: shape must be (N,) or (N, M), got {N!r}")
        N, M = N[0], (N[1] if len(N) == 2 else None)
    dev = _dev.get(device)
    return Tensor(dev.xp.eye(int(N), None if M is None else int(M), dtype=_dt.canonical(dtype)),
                  device=dev)


def arange(start=0, stop=None, step=1, dtype="float32", device=None):
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    dev = _dev.get(device)
    return Tensor(np.arange(start, stop, step, dtype=np.float64), dtype=dtype, device=dev)


def linspace(start, stop, num, dtype="float32", device=None):
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    return Tensor(np.linspace(start, stop, num), dtype=dtype, device=device)


def astype(x, dtype):
    x = as_tensor(x, "astype")
    return E.Cast.apply(x, dtype=_dt.canonical(dtype))


def _same_kind(inps, fn, device=None):
    """Tensors of one promoted dtype on one device, for concat/stack."""
    if isinstance(inps, Tensor) or not isinstance(inps, (list, tuple)) or not inps:
        raise TypeError(f"{fn}: expected a non-empty list of tensors")
    ts = [as_tensor(t, fn) for t in inps]
    dev = _dev.get(device) if device is not None else ts[0].device
    ts = [t if t.device is dev else S.Copy.apply(t, device=dev) for t in ts]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = _dt.promote(dt, t.dtype)
    return [t if t.dtype == dt else E.Cast.apply(t, dtype=dt) for t in ts]


def concat(inps, axis=0, device=None):
    """Join tensors along an existing axis; 0-d tensors count as 1-element vectors (as
    MegEngine)."""
    ts = _same_kind(inps, "concat", device)
    if builtins.any(t.ndim == 0 for t in ts):
        ts = [S.Reshape.apply(t, shape=(1,)) if t.ndim == 0 else t for t in ts]
    ref = ts[0]
    axis = one_axis(axis, ref.ndim, "concat")
    for t in ts[1:]:
        if t.ndim != ref.ndim or builtins.any(
                a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != axis):
            raise ValueError(f"concat: shapes {[x.shape for x in ts]} differ outside axis {axis}")
    return S.Concat.apply(*ts, axis=axis)


def stack(inps, axis=0, device=None):
    """Join tensors of one shape along a new axis."""
    ts = _same_kind(inps, "stack", device)
    if builtins.any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"stack: all shapes must be equal, got {[t.shape for t in ts]}")
    axis = one_axis(axis, ts[0].ndim + 1, "stack")
    return S.Concat.apply(*[expand_dims(t, axis) for t in ts], axis=axis)


def split(inp, nsplits_or_sections, axis=0):
    """Split into `n` parts, or at the given section indices (as numpy). As MegEngine (and
    numpy's array_split), n parts of an axis of size s that n does not divide are s // n + 1
    long for the first s % n parts and s // n for the rest (10 into 3: 4, 3, 3)."""
    inp = as_tensor(inp, "split")
    axis = one_axis(axis, inp.ndim, "split")
    size = inp.shape[axis]
    if isinstance(nsplits_or_sections, (int, np.integer)):
        n = int(nsplits_or_sections)
        if n <= 0 or n > size:
            raise ValueError(f"split: cannot split axis {axis} of size {size} into {n} parts")
        q, r = divmod(size, n)
        bounds = [i * q + builtins.min(i, r) for i in range(n + 1)]
    else:
        cuts = [int(c) for c in nsplits_or_sections]
        if cuts != sorted(cuts) or (cuts and (cuts[0] < 0 or cuts[-1] > size)):
            raise ValueError(f"split: sections {cuts} must be increasing within [0, {size}]")
        bounds = [0] + cuts + [size]
    pre = (slice(None),) * axis
    return [I.GetItem.apply(inp, index=pre + (slice(lo, hi),))
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def _index_tensor(index, inp, fn):
    index = as_tensor(index, fn, like=inp)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{fn}: index must be an integer tensor, got {index.dtype}")
    return index


def gather(inp, axis, index):
    """out[i][j][k] = inp[i][index[i][j][k]][k] for axis=1; index has inp's ndim."""
    inp = as_tensor(inp, "gather")
    index = _index_tensor(index, inp, "gather")
    axis = one_axis(axis, inp.ndim, "gather")
    if index.ndim != inp.ndim or builtins.any(
            i != a and d != axis for d, (i, a) in enumerate(zip(index.shape, inp.shape))):
        raise ValueError(f"gather: index of shape {index.shape} must match inp {inp.shape} "
                         f"except along axis {axis}")
    return I.Gather.apply(inp, index, axis=axis)


def scatter(inp, axis, index, source):
    """out = inp with out[i][index[i][j]] = source[i][j] (axis=0), as MegEngine's scatter."""
    inp = as_tensor(inp, "scatter")
    index = _index_tensor(index, inp, "scatter")
    source = as_tensor(source, "scatter", like=inp)
    axis = one_axis(axis, inp.ndim, "scatter")
    if index.shape != source.shape or index.ndim != inp.ndim:
        raise ValueError(f"scatter: index {index.shape} and source {source.shape} must have one "
                         f"shape with inp's ndim ({inp.shape})")
    if source.dtype != inp.dtype:
        source = E.Cast.apply(source, dtype=inp.dtype)
    return I.Scatter.apply(inp, index, source, axis=axis)


def cond_take(mask, x):
    """(x[mask] flattened, int32 flat indices where mask is True)."""
    mask, x = as_tensor(mask, "cond_take"), as_tensor(x, "cond_take")
    if mask.dtype != _dt.bool_:
        raise TypeError(f"cond_take: mask must be bool, got {mask.dtype}")
    if mask.shape != x.shape:
        raise ValueError(f"cond_take: mask {mask.shape} and x {x.shape} must have one shape")
    return I.CondTake.apply(mask, x)


def expand_dims(inp, axis):
    inp = as_tensor(inp, "expand_dims")
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = norm_axis(axes, inp.ndim + len(axes), "expand_dims")
    shape = list(inp.shape)
    for a in axes:
        shape.insert(a, 1)
    return S.Reshape.apply(inp, shape=tuple(shape))


def squeeze(inp, axis=None):
    inp = as_tensor(inp, "squeeze")
    if axis is None:
        axes = tuple(i for i, s in enumerate(inp.shape) if s == 1)
    else:
        axes = norm_axis(axis, inp.ndim, "squeeze")
        bad = [a for a in axes if inp.shape[a] != 1]
        if bad:
            raise ValueError(f"squeeze: axis {bad} of shape {inp.shape} has size != 1")
    return S.Reshape.apply(inp, shape=tuple(s for i, s in enumerate(inp.shape) if i not in axes))


def flatten(inp, start_axis=0, end_axis=-1):
    inp = as_tensor(inp, "flatten")
    if inp.ndim == 0:
        return S.Reshape.apply(inp, shape=(1,))
    lo, hi = norm_axis(start_axis, inp.ndim, "flatten")[0], norm_axis(end_axis, inp.ndim,
                                                                     "flatten")[0]
    if lo > hi:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis}")
    n = 1
    for s in inp.shape[lo:hi + 1]:
        n *= s
    return S.Reshape.apply(inp, shape=inp.shape[:lo] + (n,) + inp.shape[hi + 1:])


def reshape(inp, target_shape):
    """Reshape; one entry may be -1 (inferred)."""
    inp = as_tensor(inp, "reshape")
    shape = shape_tuple(target_shape, "reshape")
    if shape.count(-1) > 1 or builtins.any(s < -1 for s in shape):
        raise ValueError(f"reshape: invalid target shape {shape}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if -1 in shape:
        if known == 0 or inp.size % known:
            raise ValueError(f"reshape: cannot reshape {inp.shape} ({inp.size} elements) to "
                             f"{shape}")
        shape = tuple(inp.size // known if s == -1 else s for s in shape)
    elif known != inp.size:
        raise ValueError(f"reshape: cannot reshape {inp.shape} ({inp.size} elements) to {shape} "
                         f"({known} elements)")
    return S.Reshape.apply(inp, shape=shape)


def transpose(inp, pattern):
    """Permute axes; 'x' in the pattern inserts a new axis of size 1 (MegEngine dimshuffle)."""
    inp = as_tensor(inp, "transpose")
    pattern = tuple(pattern)
    perm = tuple(p for p in pattern if p != "x")
    if sorted(perm) != list(range(inp.ndim)):
        raise ValueError(f"transpose: pattern {pattern} is not a permutation of the {inp.ndim} "
                         f"axes of shape {inp.shape}")
    out = S.Transpose.apply(inp, pattern=perm)
    if len(perm) != len(pattern):
        it = iter(out.shape)
        out = S.Reshape.apply(out, shape=tuple(1 if p == "x" else next(it) for p in pattern))
    return out


def broadcast_to(inp, shape):
    """Broadcast to `shape`; a None entry keeps the size of inp's matching (trailing-aligned)
    dim, as MegEngine."""
    inp = as_tensor(inp, "broadcast_to")
    if isinstance(shape, (list, tuple)) and builtins.any(s is None for s in shape):
        lead = len(shape) - inp.ndim
        if builtins.any(s is None and i < lead for i, s in enumerate(shape)):
            raise ValueError(f"broadcast_to: None in {tuple(shape)} has no matching dim in "
                             f"input shape {inp.shape}")
        shape = [inp.shape[i - lead] if s is None else s for i, s in enumerate(shape)]
    shape = shape_tuple(shape, "broadcast_to")
    lead = len(shape) - inp.ndim
    if lead < 0 or builtins.any(
            s != t and s != 1 for s, t in zip(inp.shape, shape[lead:])):
        raise ValueError(f"broadcast_to: cannot broadcast shape {inp.shape} to {shape}")
    return S.BroadcastTo.apply(inp, shape=shape)


def repeat(inp, repeats, axis=None):
    """Repeat each element `repeats` times along `axis` (flattened when None)."""
    inp = as_tensor(inp, "repeat")
    if not isinstance(repeats, (int, np.integer)) or repeats < 0:
        raise ValueError(f"repeat: repeats must be a non-negative int, got {repeats!r}")
    if axis is None:
        inp, axis = S.Reshape.apply(inp, shape=(-1,)), 0
    return S.Repeat.apply(inp, repeats=int(repeats), axis=one_axis(axis, inp.ndim, "repeat"))


def tile(inp, reps):
    inp = as_tensor(inp, "tile")
    reps = shape_tuple(reps, "tile")
    if builtins.any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must be non-negative, got {reps}")
    n = builtins.max(len(reps), inp.ndim)
    reps = (1,) * (n - len(reps)) + reps
    if inp.ndim < n:
        inp = S.Reshape.apply(inp, shape=(1,) * (n - inp.ndim) + inp.shape)
    return S.Tile.apply(inp, reps=reps)


def flip(inp, axis):
    inp = as_tensor(inp, "flip")
    return S.Flip.apply(inp, axis=norm_axis(axis, inp.ndim, "flip"))


def roll(inp, shift, axis=None):
    inp = as_tensor(inp, "roll")
    if axis is None:
        flat = S.Reshape.apply(inp, shape=(-1,))
        return S.Reshape.apply(S.Roll.apply(flat, shift=int(shift), axis=0), shape=inp.shape)
    if isinstance(axis, (tuple, list)):
        shift = tuple(int(s) for s in shift) if isinstance(shift, (tuple, list)) else \
            (int(shift),) * len(axis)
        if len(shift) != len(axis):
            raise ValueError(f"roll: {len(shift)} shifts for {len(axis)} axes")
        axis = tuple(one_axis(a, inp.ndim, "roll") for a in axis)
    else:
        axis = one_axis(axis, inp.ndim, "roll")
        shift = int(shift)
    return S.Roll.apply(inp, shift=shift, axis=axis)


def copy(inp, device=None):
    """A copy of inp, on `device` when given."""
    inp = as_tensor(inp, "copy")
    return S.Copy.apply(inp, device=_dev.get(device) if device is not None else inp.device)


def where(mask, x, y):
    """x where mask is True, else y; the unselected branch gets a zero gradient."""
    if not isinstance(mask, Tensor):
        mask = Tensor(mask, dtype="bool")
    if mask.dtype != _dt.bool_:
        raise TypeError(f"where: mask must be a bool tensor, got {mask.dtype}")
    x, y = E.operands(x if isinstance(x, Tensor) or isinstance(y, Tensor) else Tensor(x), y)
    return E.Where.apply(mask, x, y)
