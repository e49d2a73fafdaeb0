"""Activations and log-space reductions composed from existing ops (MegEngine's F.nn names):
relu6, hswish, hsigmoid, softplus, logsigmoid, logsumexp, prelu. Each is a composition, so
each gets its gradient from the ops it is built of."""
from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import nn as N

from ._utils import as_tensor, norm_axis
from .math import max as _max
from .math import sum as _sum
from .tensor import squeeze

__all__ = ["relu6", "hswish", "hsigmoid", "softplus", "logsigmoid", "logsumexp", "prelu"]


def _floating(x, fn):
    x = as_tensor(x, fn)
    return x if _dt.is_float(x.dtype) else E.Cast.apply(x, dtype=_dt.float32)


def relu6(x):
    r"""Element-wise ``min(max(x, 0), 6)``; integer input stays integer (as MegEngine).

    Args:
        x: input tensor.

    Returns:
        a tensor of x's shape and dtype.

    Examples:
        >>> F.relu6(Tensor([-1.0, 3.0, 7.0])).numpy()
        array([0., 3., 6.], dtype=float32)
    """
    x = as_tensor(x, "relu6")
    return E.Clip.apply(x, lower=0, upper=6)


def hsigmoid(x):
    r"""Element-wise hard sigmoid ``relu6(x + 3) / 6``; integer input computes in float32.

    Args:
        x: input tensor.

    Returns:
        a float tensor of x's shape.

    Examples:
        >>> F.hsigmoid(Tensor([-4.0, 0.0, 1.5, 4.0])).numpy()
        array([0.  , 0.5 , 0.75, 1.  ], dtype=float32)
    """
    x = _floating(x, "hsigmoid")
    return E.Clip.apply(x + 3.0, lower=0.0, upper=6.0) / 6.0


def hswish(x):
    r"""Element-wise hard swish ``x * relu6(x + 3) / 6``.

    Args:
        x: input tensor.

    Returns:
        a float tensor of x's shape.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.arange(5).astype(np.float32))
        >>> out = F.hswish(x)
        >>> out.numpy().round(decimals=4)
        array([0.    , 0.6667, 1.6667, 3.    , 4.    ], dtype=float32)
    """
    x = _floating(x, "hswish")
    return x * (E.Clip.apply(x + 3.0, lower=0.0, upper=6.0) / 6.0)


def softplus(inp):
    r"""Element-wise ``log(1 + exp(x))``, computed stably as
    ``log1p(exp(-abs(x))) + relu(x)``.

    Args:
        inp: input tensor (integer input computes in float32).

    Returns:
        a float tensor of inp's shape.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.arange(-3, 3, dtype=np.float32))
        >>> y = F.softplus(x)
        >>> y.numpy().round(decimals=4)
        array([0.0486, 0.1269, 0.3133, 0.6931, 1.3133, 2.1269], dtype=float32)
    """
    x = _floating(inp, "softplus")
    return E.Log1p.apply(E.Exp.apply(-E.Abs.apply(x))) + N.Relu.apply(x)


def logsigmoid(inp):
    r"""Element-wise ``log(1 / (1 + exp(-x))) = -softplus(-x)``.

    Args:
        inp: input tensor (integer input computes in float32).

    Returns:
        a float tensor of inp's shape.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.arange(-5, 5, dtype=np.float32))
        >>> y = F.logsigmoid(x)
        >>> y.numpy().round(decimals=4)
        array([-5.0067, -4.0182, -3.0486, -2.1269, -1.3133, -0.6931, -0.3133,
               -0.1269, -0.0486, -0.0181], dtype=float32)
    """
    return -softplus(-_floating(inp, "logsigmoid"))


def logsumexp(inp, axis, keepdims=False):
    r"""``log(sum(exp(inp), axis))``, computed as ``b + log(sum(exp(inp - b)))`` with
    ``b = max(inp, axis)`` so that large inputs do not overflow.

    Args:
        inp: input tensor (integer input computes in float32).
        axis: an int or a tuple of ints (None: every axis, an extension of MegEngine's).
        keepdims: keep the reduced axes as size 1.

    Returns:
        the reduced float tensor.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.arange(-5, 5, dtype=np.float32)).reshape(2,5)
        >>> y = F.logsumexp(x, axis=1, keepdims=False)
        >>> y.numpy().round(decimals=4)
        array([-0.5481,  4.4519], dtype=float32)
    """
    x = _floating(inp, "logsumexp")
    axes = norm_axis(axis, x.ndim, "logsumexp")
    # The shift is a constant: its gradient cancels exactly, so it is detached.
    b = _max(x.detach(), axes, keepdims=True)
    out = E.Log.apply(_sum(E.Exp.apply(x - b), axes, keepdims=True)) + b
    if keepdims:
        return out
    return squeeze(out, axes if axes is not None else tuple(range(x.ndim)))


def prelu(x, y):
    r"""Element-wise ``max(x, 0) + y * min(x, 0)``: a leaky ReLU whose slope ``y`` broadcasts
    against x (one slope, or one per channel of shape (1, C, 1, 1)).

    Args:
        x: input tensor.
        y: slope tensor or number, broadcastable to x.

    Returns:
        a tensor of x's shape.

    Examples:
        >>> F.prelu(Tensor([-1.0, 2.0]), Tensor([0.25])).numpy()
        array([-0.25,  2.  ], dtype=float32)
    """
    x = _floating(x, "prelu")
    return N.Relu.apply(x) + E.binary(E.Mul, y, E.binary(E.Minimum, x, 0.0))
