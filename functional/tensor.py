"""Tensor creation and manipulation (MegEngine names and arguments)."""
import builtins
import math

import numpy as np

from engine import device as _dev
from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import indexing as I
from engine.ops import shape as S
from engine.tensor import Tensor

from ._utils import ShapeError, as_tensor, keeps_format, norm_axis, one_axis, shape_tuple

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
    """Creates a tensor of the given shape filled with ``value``.

    Without a dtype the result follows the value, as MegEngine: a bool gives bool, an int
    int32, a float float32 (a 0-d Tensor value gives its element).

    Args:
        shape: the output shape, an int or a tuple of ints.
        value: the fill value (a Python scalar or a 0-d tensor).
        dtype: the result dtype; None infers it from ``value``.
        device: where to create the tensor; None means the default device.

    Returns:
        a tensor of ``shape`` whose every element is ``value``.

    Examples:
        >>> F.full((2, 3), 3).numpy()
        array([[3, 3, 3],
               [3, 3, 3]], dtype=int32)
        >>> F.full((2,), 1.5).numpy()
        array([1.5, 1.5], dtype=float32)
        >>> F.full((2, 2), 7, dtype="float32").numpy()
        array([[7., 7.],
               [7., 7.]], dtype=float32)
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
    """Creates a tensor of the given shape filled with zeros.

    Args:
        shape: the output shape, an int or a tuple of ints.
        dtype: the result dtype. Default: float32 (None means float32 too)
        device: where to create the tensor; None means the default device.

    Returns:
        a tensor of zeros.

    Examples:
        >>> F.zeros((2, 3)).numpy()
        array([[0., 0., 0.],
               [0., 0., 0.]], dtype=float32)
        >>> F.zeros(3, dtype="int32").numpy()
        array([0, 0, 0], dtype=int32)
    """
    return full(shape, 0, "float32" if dtype is None else dtype, device)


def ones(shape, dtype="float32", device=None):
    """Creates a tensor of the given shape filled with ones.

    Args:
        shape: the output shape, an int or a tuple of ints.
        dtype: the result dtype. Default: float32 (None means float32 too)
        device: where to create the tensor; None means the default device.

    Returns:
        a tensor of ones.

    Examples:
        >>> F.ones((2, 2)).numpy()
        array([[1., 1.],
               [1., 1.]], dtype=float32)
        >>> F.ones(3, dtype="int32").numpy()
        array([1, 1, 1], dtype=int32)
    """
    return full(shape, 1, "float32" if dtype is None else dtype, device)


def full_like(inp, value):
    """A new tensor with the shape, dtype and device of ``inp``, filled with ``value``.

    Args:
        inp: the tensor (or array-like) whose shape, dtype and device to take.
        value: the fill value, converted to ``inp``'s dtype.

    Returns:
        the filled tensor.

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.full_like(x, 2).numpy()
        array([[2, 2, 2],
               [2, 2, 2]], dtype=int32)
        >>> F.full_like(x, 2.7).numpy()
        array([[2, 2, 2],
               [2, 2, 2]], dtype=int32)
    """
    inp = as_tensor(inp, "full_like")
    return full(inp.shape, value, inp.dtype, inp.device)


def zeros_like(inp):
    """A new tensor of zeros with the shape, dtype and device of ``inp``.

    Args:
        inp: the tensor (or array-like) whose shape, dtype and device to take.

    Returns:
        the zero tensor.

    Examples:
        >>> F.zeros_like(Tensor([[1, 2, 3], [4, 5, 6]])).numpy()
        array([[0, 0, 0],
               [0, 0, 0]], dtype=int32)
    """
    return full_like(inp, 0)


def ones_like(inp):
    """A new tensor of ones with the shape, dtype and device of ``inp``.

    Args:
        inp: the tensor (or array-like) whose shape, dtype and device to take.

    Returns:
        the tensor of ones.

    Examples:
        >>> F.ones_like(Tensor([1.5, 2.5])).numpy()
        array([1., 1.], dtype=float32)
    """
    return full_like(inp, 1)


def eye(N, M=None, *, dtype="float32", device=None):
    """Creates a 2-D tensor with ones on the diagonal and zeros elsewhere.

    As MegEngine's ``F.eye([rows, cols])``, ``N`` may also be the whole shape: a sequence (or
    a Tensor) of one or two ints, and then ``M`` must be None.

    Args:
        N: the number of rows, or the shape ``(N,)`` / ``(N, M)``.
        M: the number of columns; None means ``N`` (a square matrix).
        dtype: the result dtype. Default: float32
        device: where to create the tensor; None means the default device.

    Returns:
        an (N, M) tensor.

    Examples:
        >>> F.eye(3).numpy()
        array([[1., 0., 0.],
               [0., 1., 0.],
               [0., 0., 1.]], dtype=float32)
        >>> F.eye(2, 3, dtype="int32").numpy()
        array([[1, 0, 0],
               [0, 1, 0]], dtype=int32)
        >>> F.eye([3, 2]).numpy()
        array([[1., 0.],
               [0., 1.],
               [0., 0.]], dtype=float32)
    """
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
    """Evenly spaced values in the half-open interval ``[start, stop)``.

    Called with one argument, it is the stop and the values start at 0.

    Args:
        start: the first value (the stop when ``stop`` is None).
        stop: the end, not included.
        step: the spacing between values, not zero; may be negative.
        dtype: the element type. Default: float32.
        device: where to place the tensor (a device name such as ``"cpu0"``); None means the
            default device.

    Returns:
        a 1-D tensor of ``ceil((stop - start) / step)`` values.

    Examples:
        >>> F.arange(5).numpy()
        array([0., 1., 2., 3., 4.], dtype=float32)
        >>> F.arange(1, 4, dtype="int32").numpy()
        array([1, 2, 3], dtype=int32)
        >>> F.arange(1, 0, -0.25).numpy()
        array([1.  , 0.75, 0.5 , 0.25], dtype=float32)
    """
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    dev = _dev.get(device)
    return Tensor(np.arange(start, stop, step, dtype=np.float64), dtype=dtype, device=dev)


def linspace(start, stop, num, dtype="float32", device=None):
    """``num`` evenly spaced values from ``start`` to ``stop``, both included.

    Args:
        start: the first value.
        stop: the last value.
        num: how many values, a non-negative int.
        dtype: the element type. Default: float32.
        device: where to place the tensor (a device name such as ``"cpu0"``); None means the
            default device.

    Returns:
        a 1-D tensor of ``num`` values.

    Examples:
        >>> F.linspace(0, 1, 5).numpy()
        array([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
        >>> F.linspace(3, 10, 3, dtype="int32").numpy()
        array([ 3,  6, 10], dtype=int32)
    """
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    return Tensor(np.linspace(start, stop, num), dtype=dtype, device=device)


def astype(x, dtype):
    """Converts a tensor to another dtype (differentiable for floating-point input).

    Args:
        x: input tensor.
        dtype: the target dtype, a numpy dtype or its name.

    Returns:
        a tensor of ``x``'s shape in ``dtype``; float to int conversion truncates toward zero.

    Examples:
        >>> F.astype(Tensor([1.7, -2.7]), "int32").numpy()
        array([ 1, -2], dtype=int32)
        >>> F.astype(Tensor([0, 2]), np.float16).numpy()
        array([0., 2.], dtype=float16)
    """
    x = as_tensor(x, "astype")
    return E.Cast.apply(x, dtype=_dt.canonical(dtype))


def _same_kind(inps, fn, device=None):
    """Tensors of one promoted dtype on one device, for concat/stack."""
    if isinstance(inps, Tensor) or not isinstance(inps, (list, tuple)) or not inps:
        raise TypeError(f"{fn}: expected a non-empty list of tensors")
    ts = [as_tensor(t, fn) for t in inps]
    if device is None:  # as MegEngine: inputs on several devices need an explicit device
        devs = list(dict.fromkeys(t.device for t in ts))
        if len(devs) > 1:
            raise ValueError(f"{fn}: inputs live on different devices {devs}; pass device= to "
                             "choose where the result goes")
        dev = devs[0]
    else:
        dev = _dev.get(device)
    ts = [t if t.device is dev else S.Copy.apply(t, device=dev) for t in ts]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = _dt.promote(dt, t.dtype)
    return [t if t.dtype == dt else E.Cast.apply(t, dtype=dt) for t in ts]


@keeps_format
def concat(inps, axis=0, device=None):
    """Joins tensors along an existing axis.

    The tensors must have one ndim and equal sizes outside ``axis``; their dtypes are promoted
    to one. As MegEngine, a 0-d tensor counts as a 1-element vector.

    Args:
        inps: a list or tuple of tensors.
        axis: the axis to join along (negative counts from the end). Default: 0
        device: where to place the result; None means the device of the first tensor.

    Returns:
        the joined tensor; its size along ``axis`` is the sum of the inputs' sizes.

    Examples:
        >>> a, b = Tensor([[1, 2], [3, 4]]), Tensor([[5, 6]])
        >>> F.concat([a, b]).numpy()
        array([[1, 2],
               [3, 4],
               [5, 6]], dtype=int32)
        >>> F.concat([a, Tensor([[7], [8]])], axis=1).numpy()
        array([[1, 2, 7],
               [3, 4, 8]], dtype=int32)
        >>> F.concat([Tensor(1.), Tensor(2.), Tensor([3., 4.])]).numpy()
        array([1., 2., 3., 4.], dtype=float32)
    """
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
    """Joins tensors of one shape along a new axis.

    Args:
        inps: a list or tuple of tensors of one shape; their dtypes are promoted to one.
        axis: the position of the new axis in the result.
        device: where to place the result; None means the device of the first tensor.

    Returns:
        a tensor with one more dim than the inputs.

    Examples:
        >>> a, b = Tensor([1, 2]), Tensor([3, 4])
        >>> F.stack([a, b]).numpy()
        array([[1, 2],
               [3, 4]], dtype=int32)
        >>> F.stack([a, b], axis=1).numpy()
        array([[1, 3],
               [2, 4]], dtype=int32)
    """
    ts = _same_kind(inps, "stack", device)
    if builtins.any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"stack: all shapes must be equal, got {[t.shape for t in ts]}")
    axis = one_axis(axis, ts[0].ndim + 1, "stack")
    return S.Concat.apply(*[expand_dims(t, axis) for t in ts], axis=axis)


def split(inp, nsplits_or_sections, axis=0):
    """Splits a tensor into several along an axis.

    With an int ``n`` the axis is cut into ``n`` parts; as MegEngine (and numpy's
    ``array_split``), when ``n`` does not divide the axis size ``s``, the first ``s % n`` parts
    are ``s // n + 1`` long and the rest ``s // n`` (10 into 3: 4, 3, 3). With a list of
    increasing indices the axis is cut before each of them (as ``numpy.split``).

    Args:
        inp: input tensor.
        nsplits_or_sections: the number of parts (1 to the axis size), or the section indices.
        axis: the axis to split (negative counts from the end). Default: 0

    Returns:
        a list of tensors.

    Examples:
        >>> x = Tensor(np.arange(10))
        >>> [t.numpy().tolist() for t in F.split(x, 3)]
        [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
        >>> [t.numpy().tolist() for t in F.split(x, [2, 5])]
        [[0, 1], [2, 3, 4], [5, 6, 7, 8, 9]]
        >>> [t.shape for t in F.split(Tensor(np.zeros((2, 3))), 3, axis=1)]
        [(2, 1), (2, 1), (2, 1)]
    """
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
            # MegEngine's message, which code written for it may compare (its spelling kept)
            raise ValueError(f"Invalid nsplits_or_secions: {cuts}")
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
    """Picks elements of ``inp`` along ``axis`` at the positions in ``index``.

    For a 3-D input and ``axis=1``, ``out[i][j][k] = inp[i][index[i][j][k]][k]``.

    Args:
        inp: input tensor.
        axis: the axis to index along.
        index: an integer tensor with ``inp``'s ndim and ``inp``'s shape except along ``axis``.

    Returns:
        a tensor of ``index``'s shape and ``inp``'s dtype.

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.gather(x, 1, Tensor([[2, 0], [1, 1]])).numpy()
        array([[3, 1],
               [5, 5]], dtype=int32)
        >>> F.gather(x, 0, Tensor([[1, 0, 1]])).numpy()
        array([[4, 2, 6]], dtype=int32)
    """
    inp = as_tensor(inp, "gather")
    index = _index_tensor(index, inp, "gather")
    axis = one_axis(axis, inp.ndim, "gather")
    if index.ndim != inp.ndim or builtins.any(
            i != a and d != axis for d, (i, a) in enumerate(zip(index.shape, inp.shape))):
        raise ValueError(f"gather: index of shape {index.shape} must match inp {inp.shape} "
                         f"except along axis {axis}")
    return I.Gather.apply(inp, index, axis=axis)


def scatter(inp, axis, index, source):
    """Writes ``source`` into ``inp`` along ``axis`` at the positions in ``index``.

    For a 2-D input and ``axis=0``, ``out[index[i][j]][j] = source[i][j]``; the other
    elements are those of ``inp``. Where ``index`` names one position twice, which write wins
    is unspecified.

    Args:
        inp: input tensor.
        axis: the axis to index along.
        index: an integer tensor with ``inp``'s ndim.
        source: the values to write, of ``index``'s shape (cast to ``inp``'s dtype).

    Returns:
        ``inp`` itself, updated in place as MegEngine does (gradients still flow to its value
        from before the write).

    Examples:
        >>> x = Tensor(np.zeros((2, 3), dtype=np.float32))
        >>> F.scatter(x, 1, Tensor([[2], [0]]), Tensor([[1.], [2.]])) is x
        True
        >>> x.numpy()
        array([[0., 0., 1.],
               [2., 0., 0.]], dtype=float32)
        >>> x = Tensor(np.zeros((2, 3), dtype=np.float32))
        >>> F.scatter(x, 0, Tensor([[1, 0, 1]]), Tensor([[5., 6., 7.]])).numpy()
        array([[0., 6., 0.],
               [5., 0., 7.]], dtype=float32)
    """
    inp = as_tensor(inp, "scatter")
    index = _index_tensor(index, inp, "scatter")
    source = as_tensor(source, "scatter", like=inp)
    axis = one_axis(axis, inp.ndim, "scatter")
    if index.shape != source.shape or index.ndim != inp.ndim:
        raise ValueError(f"scatter: index {index.shape} and source {source.shape} must have one "
                         f"shape with inp's ndim ({inp.shape})")
    if source.dtype != inp.dtype:
        source = E.Cast.apply(source, dtype=inp.dtype)
    inp._reset(I.Scatter.apply(inp, index, source, axis=axis))
    return inp


def cond_take(mask, x):
    """The elements of ``x`` where ``mask`` is True, and their flat positions.

    Args:
        mask: a bool tensor of ``x``'s shape.
        x: input tensor.

    Returns:
        a tuple (values, indices): the selected elements as a 1-D tensor of ``x``'s dtype, in
        row-major order, and their int32 indices into the flattened ``x``.

    Examples:
        >>> x = Tensor([[1., 2.], [3., 4.]])
        >>> values, indices = F.cond_take(x > 1.5, x)
        >>> values.numpy(), indices.numpy()
        (array([2., 3., 4.], dtype=float32), array([1, 2, 3], dtype=int32))
    """
    mask, x = as_tensor(mask, "cond_take"), as_tensor(x, "cond_take")
    if mask.dtype != _dt.bool_:
        raise TypeError(f"cond_take: mask must be bool, got {mask.dtype}")
    if mask.shape != x.shape:
        raise ValueError(f"cond_take: mask {mask.shape} and x {x.shape} must have one shape")
    return I.CondTake.apply(mask, x)


def expand_dims(inp, axis):
    """Inserts axes of size 1.

    Args:
        inp: input tensor.
        axis: the position (or positions) of the new axes in the result; negative counts
            from the end of the result.

    Returns:
        a tensor with the same elements and ``len(axis)`` more dims.

    Examples:
        >>> x = Tensor([1., 2.])
        >>> F.expand_dims(x, 0).shape
        (1, 2)
        >>> F.expand_dims(x, -1).numpy()
        array([[1.],
               [2.]], dtype=float32)
        >>> F.expand_dims(x, (0, 2)).shape
        (1, 2, 1)
    """
    inp = as_tensor(inp, "expand_dims")
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = norm_axis(axes, inp.ndim + len(axes), "expand_dims")
    shape = list(inp.shape)
    for a in axes:
        shape.insert(a, 1)
    return S.Reshape.apply(inp, shape=tuple(shape))


def squeeze(inp, axis=None):
    """Removes axes of size 1.

    Args:
        inp: input tensor.
        axis: the axis or axes to remove (each must have size 1); None removes all axes of
            size 1.

    Returns:
        a tensor with the same elements and fewer dims.

    Examples:
        >>> x = Tensor(np.zeros((1, 2, 1, 3)))
        >>> F.squeeze(x).shape
        (2, 3)
        >>> F.squeeze(x, 2).shape
        (1, 2, 3)
        >>> F.squeeze(x, (0, 2)).shape
        (2, 3)
    """
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
    """Merges the axes ``start_axis`` to ``end_axis`` (both included) into one.

    Args:
        inp: input tensor; a 0-d tensor becomes a 1-element 1-D tensor.
        start_axis: the first axis to merge.
        end_axis: the last axis to merge (negative counts from the end).

    Returns:
        a tensor with the same elements.

    Examples:
        >>> x = Tensor(np.arange(24, dtype=np.int32).reshape(2, 3, 4))
        >>> F.flatten(x).shape
        (24,)
        >>> F.flatten(x, 1).shape
        (2, 12)
        >>> F.flatten(x, 0, 1).shape
        (6, 4)
    """
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


def _infer_shape(inp, shape, known):
    """reshape's target shape with its -1 inferred, or the error naming what does not fit."""
    if shape and builtins.min(shape) < 0:
        if shape.count(-1) > 1 or builtins.min(shape) < -1:
            raise ValueError(f"reshape: invalid target shape {shape}")
        known = -known  # the product of the other entries (one -1, checked above)
        if known == 0 or inp.size % known:
            raise ShapeError(f"reshape: cannot reshape {inp.shape} ({inp.size} elements) to "
                             f"{shape}")
        return tuple(inp.size // known if s == -1 else s for s in shape)
    raise ShapeError(f"reshape: cannot reshape {inp.shape} ({inp.size} elements) to {shape} "
                     f"({known} elements)")


_prod = math.prod


def reshape(inp, target_shape):
    """Gives a tensor a new shape with the same number of elements (row-major order).

    Args:
        inp: input tensor.
        target_shape: the new shape; one entry may be -1, which is inferred from the others.

    Returns:
        a tensor of the new shape with ``inp``'s elements.

    Examples:
        >>> x = Tensor(np.arange(6, dtype=np.int32))
        >>> F.reshape(x, (2, 3)).numpy()
        array([[0, 1, 2],
               [3, 4, 5]], dtype=int32)
        >>> F.reshape(x, (-1, 2)).shape
        (3, 2)
    """
    if type(inp) is not Tensor:
        inp = as_tensor(inp, "reshape")
    shape = shape_tuple(target_shape, "reshape")
    known = _prod(shape)
    if known != inp.size:  # a -1 to infer, or an error. (Negative entries whose product is the
        shape = _infer_shape(inp, shape, known)  # size, as (-2, -3), numpy refuses by name.)
    out = S.Reshape.apply(inp, shape=shape)
    if inp._format != "default" and len(shape) == 4:  # (keeps_format's rule, inline: a hot op)
        out._format = inp._format
    return out


def transpose(inp, pattern):
    """Permutes the axes of a tensor (MegEngine's dimshuffle).

    Args:
        inp: input tensor.
        pattern: a permutation of ``range(inp.ndim)``: axis i of the result is axis
            ``pattern[i]`` of ``inp``. An ``"x"`` in the pattern inserts a new axis of size 1.

    Returns:
        the permuted tensor.

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.transpose(x, (1, 0)).numpy()
        array([[1, 4],
               [2, 5],
               [3, 6]], dtype=int32)
        >>> F.transpose(x, (1, "x", 0)).shape
        (3, 1, 2)
    """
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


@keeps_format
def broadcast_to(inp, shape):
    """Broadcasts a tensor to the given shape (numpy's rules: dims align from the end; a size-1
    dim stretches, missing leading dims are added).

    As MegEngine, a None entry of ``shape`` keeps the size of the input's matching
    (trailing-aligned) dim.

    Args:
        inp: input tensor.
        shape: the target shape, a sequence of ints (or None entries) or a 1-D int tensor.

    Returns:
        a tensor of ``shape``.

    Examples:
        >>> F.broadcast_to(Tensor([1, 2, 3]), (2, 3)).numpy()
        array([[1, 2, 3],
               [1, 2, 3]], dtype=int32)
        >>> F.broadcast_to(Tensor([[1.], [2.]]), (2, 3)).numpy()
        array([[1., 1., 1.],
               [2., 2., 2.]], dtype=float32)
        >>> F.broadcast_to(Tensor(np.zeros((2, 1))), (3, None, 4)).shape
        (3, 2, 4)
    """
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
        raise ShapeError(f"broadcast_to: cannot broadcast shape {inp.shape} to {shape}")
    return S.BroadcastTo.apply(inp, shape=shape)


def repeat(inp, repeats, axis=None):
    """Repeats each element of a tensor along an axis.

    Args:
        inp: input tensor.
        repeats: how many times to repeat each element, a non-negative int (or a 0-d / 1-element
            integer Tensor holding one, as MegEngine takes).
        axis: the axis along which to repeat; None repeats the elements of the flattened
            tensor.

    Returns:
        the repeated tensor.

    Examples:
        >>> x = Tensor([[1, 2], [3, 4]])
        >>> F.repeat(x, 2, axis=1).numpy()
        array([[1, 1, 2, 2],
               [3, 3, 4, 4]], dtype=int32)
        >>> F.repeat(x, 2).numpy()
        array([1, 1, 2, 2, 3, 3, 4, 4], dtype=int32)
    """
    inp = as_tensor(inp, "repeat")
    if isinstance(repeats, Tensor) and repeats.size == 1 and repeats.dtype.kind in "iu":
        repeats = int(repeats.item())
    if not isinstance(repeats, (int, np.integer)) or repeats < 0:
        raise ValueError(f"repeat: repeats must be a non-negative int, got {repeats!r}")
    if axis is None:
        inp, axis = S.Reshape.apply(inp, shape=(-1,)), 0
    return S.Repeat.apply(inp, repeats=int(repeats), axis=one_axis(axis, inp.ndim, "repeat"))


def tile(inp, reps):
    """Repeats a whole tensor ``reps[i]`` times along each axis i.

    Args:
        inp: input tensor.
        reps: the repetitions per axis, non-negative ints. If it is shorter than ``inp``'s
            ndim it is padded with 1s in front; if longer, ``inp`` gets new leading axes.

    Returns:
        the tiled tensor.

    Examples:
        >>> x = Tensor([[1, 2], [3, 4]])
        >>> F.tile(x, (1, 2)).numpy()
        array([[1, 2, 1, 2],
               [3, 4, 3, 4]], dtype=int32)
        >>> F.tile(Tensor([1, 2]), (2, 1)).numpy()
        array([[1, 2],
               [1, 2]], dtype=int32)
    """
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
    """Reverses the order of the elements along the given axis or axes.

    Args:
        inp: input tensor.
        axis: an axis or a tuple of axes.

    Returns:
        a tensor of ``inp``'s shape.

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.flip(x, 1).numpy()
        array([[3, 2, 1],
               [6, 5, 4]], dtype=int32)
        >>> F.flip(x, (0, 1)).numpy()
        array([[6, 5, 4],
               [3, 2, 1]], dtype=int32)
    """
    inp = as_tensor(inp, "flip")
    return S.Flip.apply(inp, axis=norm_axis(axis, inp.ndim, "flip"))


def roll(inp, shift, axis=None):
    """Shifts the elements along an axis; elements pushed off one end come back at the other.

    Args:
        inp: input tensor.
        shift: the number of places to shift (negative shifts backward); a tuple gives one
            shift per axis in ``axis``.
        axis: an axis or a tuple of axes; None shifts the flattened tensor and restores the
            shape.

    Returns:
        a tensor of ``inp``'s shape.

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.roll(x, 1, axis=1).numpy()
        array([[3, 1, 2],
               [6, 4, 5]], dtype=int32)
        >>> F.roll(x, 1).numpy()
        array([[6, 1, 2],
               [3, 4, 5]], dtype=int32)
        >>> F.roll(x, (1, -1), axis=(0, 1)).numpy()
        array([[5, 6, 4],
               [2, 3, 1]], dtype=int32)
    """
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
    """Copies a tensor, onto another device when one is given.

    Args:
        inp: input tensor.
        device: the device of the copy; None means ``inp``'s device.

    Returns:
        a new tensor with ``inp``'s values; gradients flow back to ``inp``.

    Examples:
        >>> x = Tensor([1., 2.])
        >>> y = F.copy(x)
        >>> y.numpy(), y.device == x.device
        (array([1., 2.], dtype=float32), True)
    """
    inp = as_tensor(inp, "copy")
    return S.Copy.apply(inp, device=_dev.get(device) if device is not None else inp.device)


def where(mask, x, y):
    """Chooses elementwise between two tensors: ``x`` where ``mask`` is True, else ``y``.

    ``mask``, ``x`` and ``y`` broadcast against each other.

    Args:
        mask: a bool tensor (or array-like of bools).
        x: the values where ``mask`` is True.
        y: the values where ``mask`` is False.

    Returns:
        a tensor of the broadcast shape; the branch not chosen gets a zero gradient.

    Examples:
        >>> mask = Tensor([[True, False], [False, True]])
        >>> x = Tensor([[1., 2.], [3., 4.]])
        >>> F.where(mask, x, Tensor([[0., 0.], [0., 0.]])).numpy()
        array([[1., 0.],
               [0., 4.]], dtype=float32)
        >>> F.where(x > 2, x, -x).numpy()
        array([[-1., -2.],
               [ 3.,  4.]], dtype=float32)
    """
    if not isinstance(mask, Tensor):
        mask = Tensor(mask, dtype="bool")
    if mask.dtype != _dt.bool_:
        raise TypeError(f"where: mask must be a bool tensor, got {mask.dtype}")
    x, y = E.operands(x if isinstance(x, Tensor) or isinstance(y, Tensor) else Tensor(x), y)
    return E.Where.apply(mask, x, y)
