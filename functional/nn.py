"""Neural-network functions (activations, linear, padding, dropout, normalisation) and, as in
MegEngine, the losses (also under F.loss)."""
import numpy as np

from engine import dtype as _dt
from engine import random as _random
from engine.ops import elemwise as E
from engine.ops import nn as N
from engine.ops import shape as S
from engine.ops import softmax as SM
from engine.tensor import Tensor

from ._utils import as_tensor, check_float, one_axis
from .conv import conv2d, conv_transpose2d  # noqa: F401
from .ctc import ctc_loss  # noqa: F401
from .loss import (  # noqa: F401
    binary_cross_entropy,
    cross_entropy,
    l1_loss,
    sigmoid_focal_loss,
    smooth_l1_loss,
    square_loss,
)
from .math import matmul
from .norm import batch_norm, group_norm, layer_norm  # noqa: F401
from .pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d  # noqa: F401
from .tensor import concat
from .vision import interpolate  # noqa: F401
from .vision_extra import (  # noqa: F401
    correlation,
    cvt_color,
    deformable_psroi_pooling,
    remap,
    warp_affine,
    warp_perspective,
)

__all__ = [
    "relu", "sigmoid", "gelu", "silu", "leaky_relu", "softmax", "logsoftmax", "linear",
    "one_hot", "pad", "dropout", "layer_norm", "cross_entropy", "binary_cross_entropy",
    "l1_loss", "square_loss", "smooth_l1_loss",
]
__all__ += ["batch_norm", "group_norm", "max_pool2d", "avg_pool2d", "adaptive_max_pool2d",
            "adaptive_avg_pool2d", "sigmoid_focal_loss", "interpolate", "conv2d",
            "conv_transpose2d"]
__all__ += ["warp_affine", "warp_perspective", "remap", "deformable_psroi_pooling"]


def _float_input(x, fn):
    x = as_tensor(x, fn)
    check_float(x, fn)
    return x


def relu(x):
    return N.Relu.apply(_float_input(x, "relu"))


def sigmoid(x):
    return N.Sigmoid.apply(_float_input(x, "sigmoid"))


def gelu(x):
    """x * Phi(x) with the exact normal CDF (our native kernel)."""
    return N.Gelu.apply(_float_input(x, "gelu"))


def silu(x):
    """x * sigmoid(x)."""
    x = _float_input(x, "silu")
    return x * N.Sigmoid.apply(x)


def leaky_relu(inp, negative_slope=0.01):
    return N.LeakyRelu.apply(_float_input(inp, "leaky_relu"), negative_slope=float(negative_slope))


def _softmax_axis(ndim):
    """MegEngine's default: axis 0 for 0-/1-D input, else axis 1."""
    return 0 if ndim in (0, 1) else 1


def softmax(inp, axis=None):
    inp = _float_input(inp, "softmax")
    axis = _softmax_axis(inp.ndim) if axis is None else axis
    return SM.Softmax.apply(inp, axis=one_axis(axis, inp.ndim, "softmax"))


def logsoftmax(inp, axis=None):
    inp = _float_input(inp, "logsoftmax")
    axis = _softmax_axis(inp.ndim) if axis is None else axis
    return SM.LogSoftmax.apply(inp, axis=one_axis(axis, inp.ndim, "logsoftmax"))


def linear(inp, weight, bias=None):
    """inp @ weight.T + bias, weight of shape (out, in)."""
    inp = _float_input(inp, "linear")
    if weight.ndim != 2 or inp.shape[-1:] != weight.shape[1:]:
        raise ValueError(f"linear: input of shape {inp.shape} needs a weight of shape "
                         f"(out, {inp.shape[-1] if inp.ndim else '?'}), got {weight.shape}")
    out = matmul(inp, weight, transpose_b=True)
    if bias is not None:
        if bias.shape not in ((weight.shape[0],), (1, weight.shape[0])):
            raise ValueError(f"linear: bias of shape {bias.shape} does not match "
                             f"{weight.shape[0]} outputs")
        out = out + bias
    return out


def one_hot(inp, num_classes):
    """int32 one-hot encoding along a new last axis."""
    inp = as_tensor(inp, "one_hot")
    if inp.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {inp.dtype}")
    if inp.size and (int(inp.min()) < 0 or int(inp.max()) >= num_classes):
        raise ValueError(f"one_hot: values must be in [0, {num_classes}), got range "
                         f"[{int(inp.min())}, {int(inp.max())}]")
    return N.OneHot.apply(inp, num_classes=int(num_classes))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "edge": "edge"}


def pad(src, pad_width, mode="constant", constant_value=0.0):
    """Pad each axis by pad_width[i] = (before, after); modes constant, reflect, replicate."""
    src = as_tensor(src, "pad")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    pw = tuple(tuple(int(v) for v in p) for p in pad_width)
    if len(pw) != src.ndim or any(len(p) != 2 or min(p) < 0 for p in pw):
        raise ValueError(f"pad: pad_width must hold one non-negative (before, after) pair per "
                         f"axis of shape {src.shape}, got {pad_width}")
    if mode == "constant":
        return N.PadConstant.apply(src, pad_width=pw, value=constant_value)
    out = src
    for axis, (lo, hi) in enumerate(pw):
        if lo == hi == 0:
            continue
        n = src.shape[axis]
        if _PAD_MODES[mode] == "reflect" and max(lo, hi) >= n:
            raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the size "
                             f"{n} of axis {axis}")
        if n == 0:
            raise ValueError(f"pad: cannot {mode}-pad the empty axis {axis}")
        index = np.pad(np.arange(n), (lo, hi), mode=_PAD_MODES[mode])
        out = S.Take.apply(out, index=index, axis=axis)
    return out


def dropout(inp, drop_prob, training=True):
    """Zero each element with probability drop_prob and scale the rest by 1 / (1 - drop_prob)."""
    inp = _float_input(inp, "dropout")
    if not 0 <= drop_prob < 1:
        raise ValueError(f"dropout: drop_prob must be in [0, 1), got {drop_prob}")
    if not training or drop_prob == 0:
        return inp
    keep = _random.uniform(size=inp.shape, device=inp.device) >= drop_prob
    return inp * E.Cast.apply(keep, dtype=inp.dtype) * (1.0 / (1.0 - drop_prob))


del concat, Tensor, _dt
