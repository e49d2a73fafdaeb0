"""Argument checks shared by the functional API: every error names the function."""
import functools

import numpy as np

from engine import dtype as _dt
from engine.tensor import Tensor


class ArgumentError(ValueError, AssertionError):
    """A bad argument. A ValueError, and an AssertionError too because MegEngine checks many
    arguments with `assert`, so code written for it catches AssertionError."""


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit. A ValueError, and a RuntimeError too because MegEngine's shape
    inference raises RuntimeError, so code written for it catches that."""


def as_tensor(x, fn, like=None):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float, bool, list, tuple, np.ndarray, np.generic)):
        return Tensor(x, device=None if like is None else like.device)
    raise TypeError(f"{fn}: expected a Tensor, got {type(x).__name__}")


def norm_axis(axis, ndim, fn):
    """None, or a sorted tuple of non-negative axes, checked against ndim."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if isinstance(a, Tensor):
            a = int(a)
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{fn}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{fn}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ArgumentError(f"{fn}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def one_axis(axis, ndim, fn):
    return norm_axis(axis, ndim, fn)[0]


def shape_tuple(shape, fn):
    if type(shape) is tuple:  # the common case, checked without converting
        for s in shape:
            if type(s) is not int:
                break
        else:
            return shape
    if isinstance(shape, Tensor):
        shape = shape.tolist()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(map(int, shape))
    except TypeError:
        raise TypeError(f"{fn}: shape must be an int or a sequence of ints, "
                        f"got {shape!r}") from None
    return shape


def float_tensor(x, fn):
    """``x`` as a Tensor (as_tensor), checked to be floating (check_float): the two in one
    call, the first skipped for a Tensor (the activations' hot path)."""
    if type(x) is not Tensor:
        x = as_tensor(x, fn)
    if x._storage.array.dtype not in _dt._FLOAT_SET:  # (Tensor.dtype and is_float, inlined)
        check_float(x, fn)  # raises, naming fn
    return x


def check_float(x, fn):
    if not _dt.is_float(x.dtype):
        raise TypeError(f"{fn}: expected a floating-point tensor, got dtype {x.dtype}")


def computes_in_float32(fn=None, *, cast_back=lambda args, kwargs: True):
    """Decorator for functions whose native kernels are float32 only (warp, remap, correlation,
    deformable_psroi_pooling, cvt_color, ctc_loss): a float16 / bfloat16 first argument is
    widened to float32, the float32 results are cast back to its dtype (through Cast, so the
    gradients come back in that dtype too). `cast_back(args, kwargs)` (the arguments after the
    first) says whether to narrow the
    result (ctc_loss's reduction="mean" stays float32, F.mean's rule)."""
    import functools

    def wrap(f):
        @functools.wraps(f)
        def low_precision_aware(inp, *args, **kwargs):
            low = isinstance(inp, Tensor) and inp.dtype != _dt.float32 and _dt.is_float(inp.dtype)
            if not low:
                return f(inp, *args, **kwargs)
            out = f(inp.astype(_dt.float32), *args, **kwargs)
            if not cast_back(args, kwargs):
                return out

            def narrow(t):
                return t.astype(inp.dtype) if isinstance(t, Tensor) and \
                    t.dtype == _dt.float32 else t

            return tuple(narrow(t) for t in out) if isinstance(out, tuple) else narrow(out)

        return low_precision_aware

    return wrap if fn is None else wrap(fn)


def keeps_format(fn):
    """MegEngine's format propagation for an op that keeps the NCHW-style layout (batch norm,
    pooling, resizing, concat, 4-D broadcasts): each 4-D result takes the format tag ("nhwc",
    ...) of the op's input, or of the first tensor of a list input. Tags only: engine stores
    every tensor in its logical layout (Tensor.format). F.reshape and Tensor.astype apply the
    same rule inline; elementwise ops and convolutions do not propagate tags yet."""

    @functools.wraps(fn)
    def tagged(inp, *args, **kwargs):
        out = fn(inp, *args, **kwargs)
        src = inp[0] if isinstance(inp, (list, tuple)) and inp else inp
        fmt = getattr(src, "_format", "default")
        if fmt != "default":
            for t in (out if isinstance(out, (tuple, list)) else (out,)):
                if isinstance(t, Tensor) and t.ndim == 4:
                    t._format = fmt
        return out

    return tagged
