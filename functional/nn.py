"""Neural-network functions (activations, linear, padding, dropout, normalisation) and, as in
MegEngine, the losses (also under F.loss)."""
import numpy as np

from engine import dtype as _dt
from engine import random as _random
from engine.amp import _state as _amp
from engine.ops import elemwise as E
from engine.ops import nn as N
from engine.ops import shape as S
from engine.ops import softmax as SM
from engine.ops.core import apply1
from engine.tensor import Tensor

from ._utils import as_tensor, float_tensor, one_axis
from .conv import conv1d, conv2d, conv_transpose2d  # noqa: F401
from .conv_3d import conv3d, conv_transpose3d  # noqa: F401
from .conv_special import deformable_conv2d, local_conv2d, region_restricted_conv  # noqa: F401
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
from .sliding import sliding_window, sliding_window_transpose  # noqa: F401
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
__all__ += ["conv1d", "conv3d", "conv_transpose3d", "deformable_conv2d", "local_conv2d",
            "region_restricted_conv", "sliding_window", "sliding_window_transpose"]
__all__ += ["relu6", "hswish", "hsigmoid", "softplus", "logsigmoid", "logsumexp", "prelu",
            "multi_head_attention", "pixel_shuffle", "embedding", "indexing_one_hot",
            "hinge_loss", "normalize", "general_norm", "instance_norm", "local_response_norm",
            "sync_batch_norm", "nms", "roi_align", "roi_pooling"]
__all__ += ["warp_affine", "warp_perspective", "remap", "deformable_psroi_pooling"]


_float_input = float_tensor


def relu(x):
    """Rectified linear unit, elementwise: ``max(x, 0)``.

    Args:
        x: input tensor, floating or integer (MegEngine's relu takes both).

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.relu(Tensor([-2., 0., 3.])).numpy()
        array([0., 0., 3.], dtype=float32)
    """
    return apply1(N.Relu, as_tensor(x, "relu"))


def sigmoid(x):
    """Logistic sigmoid, elementwise: ``1 / (1 + exp(-x))``.

    Args:
        x: floating-point input tensor.

    Returns:
        a tensor of ``x``'s shape and dtype, with values in (0, 1).

    Examples:
        >>> F.sigmoid(Tensor([-2., 0., 2.])).numpy()
        array([0.11920292, 0.5       , 0.880797  ], dtype=float32)
    """
    return apply1(N.Sigmoid, _float_input(x, "sigmoid"))


def gelu(x):
    """Gaussian error linear unit, elementwise: ``x * Phi(x)`` with the exact normal CDF
    ``Phi`` (not the tanh approximation).

    Args:
        x: floating-point input tensor.

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.gelu(Tensor([-1., 0., 1., 2.])).numpy()
        array([-0.15865526,  0.        ,  0.8413447 ,  1.9544997 ], dtype=float32)
    """
    return apply1(N.Gelu, _float_input(x, "gelu"))


def silu(x):
    """Sigmoid linear unit (swish), elementwise: ``x * sigmoid(x)``.

    Args:
        x: floating-point input tensor.

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.silu(Tensor([-1., 0., 1., 2.])).numpy()
        array([-0.26894143,  0.        ,  0.7310586 ,  1.761594  ], dtype=float32)
    """
    return N.Silu.apply(_float_input(x, "silu"))


def leaky_relu(inp, negative_slope=0.01):
    """Leaky rectified linear unit, elementwise: ``x`` where ``x > 0``, else
    ``negative_slope * x``.

    Args:
        inp: floating-point input tensor.
        negative_slope: the slope for negative inputs.

    Returns:
        a tensor of ``inp``'s shape and dtype.

    Examples:
        >>> F.leaky_relu(Tensor([-2., 0., 3.])).numpy()
        array([-0.02,  0.  ,  3.  ], dtype=float32)
        >>> F.leaky_relu(Tensor([-2., 0., 3.]), negative_slope=0.5).numpy()
        array([-1.,  0.,  3.], dtype=float32)
    """
    return N.LeakyRelu.apply(_float_input(inp, "leaky_relu"), negative_slope=float(negative_slope))


def _softmax_axis(ndim):
    """MegEngine's default: axis 0 for 0-/1-D input, else axis 1."""
    return 0 if ndim in (0, 1) else 1


def softmax(inp, axis=None):
    """Softmax along an axis: ``exp(x) / sum(exp(x))``, computed stably (the maximum is
    subtracted first).

    Args:
        inp: floating-point input tensor.
        axis: the axis along which the result sums to 1; None means axis 0 for 0-D and 1-D
            input and axis 1 otherwise (as MegEngine).

    Returns:
        a tensor of ``inp``'s shape and dtype.

    Examples:
        >>> x = Tensor([[1., 2., 3.], [1., 1., 1.]])
        >>> F.softmax(x).numpy()
        array([[0.09003057, 0.24472848, 0.66524094],
               [0.33333334, 0.33333334, 0.33333334]], dtype=float32)
        >>> F.softmax(Tensor([0., np.log(3.)])).numpy().round(4)
        array([0.25, 0.75], dtype=float32)
    """
    inp = _float_input(inp, "softmax")
    axis = _softmax_axis(inp.ndim) if axis is None else axis
    return SM.Softmax.apply(inp, axis=one_axis(axis, inp.ndim, "softmax"))


def logsoftmax(inp, axis=None):
    """Logarithm of :func:`softmax` along an axis, computed stably as
    ``x - logsumexp(x)``.

    Args:
        inp: floating-point input tensor.
        axis: the axis to normalize along; None means axis 0 for 0-D and 1-D input and axis 1
            otherwise (as MegEngine).

    Returns:
        a tensor of ``inp``'s shape and dtype.

    Examples:
        >>> F.logsoftmax(Tensor([[0., np.log(3.)]]), axis=1).numpy()
        array([[-1.3862944 , -0.28768206]], dtype=float32)
        >>> round(float(np.exp(F.logsoftmax(Tensor([1., 2., 3.]), axis=0).numpy()).sum()), 5)
        1.0
    """
    inp = _float_input(inp, "logsoftmax")
    axis = _softmax_axis(inp.ndim) if axis is None else axis
    return SM.LogSoftmax.apply(inp, axis=one_axis(axis, inp.ndim, "logsoftmax"))


def linear(inp, weight, bias=None, compute_mode="default"):
    """Applies an affine map to the last axis: ``inp @ weight.T + bias``.

    Args:
        inp: floating-point input of shape (..., in_features).
        weight: the weight, of shape (out_features, in_features).
        bias: None, or a bias of shape (out_features,) or (1, out_features).
        compute_mode: MegEngine's accumulation-precision knob, passed on to :func:`matmul`
            ("default" or "float32").

    Returns:
        a tensor of shape (..., out_features).

    Examples:
        >>> x = Tensor([[1., 2.], [3., 4.]])
        >>> w = Tensor([[1., 0.], [1., 1.], [0., -1.]])
        >>> F.linear(x, w).numpy()
        array([[ 1.,  3., -2.],
               [ 3.,  7., -4.]], dtype=float32)
        >>> F.linear(x, w, Tensor([0.5, 0., 1.])).numpy()
        array([[ 1.5,  3. , -1. ],
               [ 3.5,  7. , -3. ]], dtype=float32)
    """
    inp = _float_input(inp, "linear")
    if weight.ndim != 2 or inp.shape[-1:] != weight.shape[1:]:
        raise ValueError(f"linear: input of shape {inp.shape} needs a weight of shape "
                         f"(out, {inp.shape[-1] if inp.ndim else '?'}), got {weight.shape}")
    out = matmul(inp, weight, transpose_b=True, compute_mode=compute_mode)
    if bias is not None:
        if bias.shape not in ((weight.shape[0],), (1, weight.shape[0])):
            raise ValueError(f"linear: bias of shape {bias.shape} does not match "
                             f"{weight.shape[0]} outputs")
        if _amp.enabled:  # MegEngine: under autocast the bias joins the low-precision product
            bias = bias.astype(_amp.low_prec_dtype)
        out = out + bias
    return out


def one_hot(inp, num_classes):
    """One-hot encoding of integer class labels along a new last axis.

    Args:
        inp: an integer tensor with values in ``[0, num_classes)``.
        num_classes: the number of classes, the size of the new axis.

    Returns:
        an int32 tensor of shape ``inp.shape + (num_classes,)``.

    Examples:
        >>> F.one_hot(Tensor([0, 2, 1]), 3).numpy()
        array([[1, 0, 0],
               [0, 0, 1],
               [0, 1, 0]], dtype=int32)
    """
    inp = as_tensor(inp, "one_hot")
    if inp.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {inp.dtype}")
    if inp.size and (int(inp.min()) < 0 or int(inp.max()) >= num_classes):
        raise ValueError(f"one_hot: values must be in [0, {num_classes}), got range "
                         f"[{int(inp.min())}, {int(inp.max())}]")
    return N.OneHot.apply(inp, num_classes=int(num_classes))


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "edge": "edge"}


def pad(src, pad_width, mode="constant", constant_value=0.0):
    """Pads a tensor: axis i gets ``pad_width[i][0]`` elements before its data and
    ``pad_width[i][1]`` after.

    As MegEngine, fewer pairs than axes pad the leading axes and leave the rest alone.

    Args:
        src: input tensor.
        pad_width: a (before, after) pair of non-negative ints per leading axis.
        mode: how to fill the new elements (case-insensitive): ``"constant"`` (the default)
            with ``constant_value``; ``"reflect"`` mirrors the data without repeating the edge
            element (each pad smaller than the axis); ``"replicate"`` (or ``"edge"``) repeats
            the edge element.
        constant_value: the fill value of mode ``"constant"``. Default: 0.0

    Returns:
        the padded tensor; axis i grows by ``pad_width[i][0] + pad_width[i][1]``.

    Examples:
        >>> inp = Tensor([[1., 2., 3.],[4., 5., 6.]])
        >>> F.nn.pad(inp, pad_width=((1, 1),), mode="constant").numpy()
        array([[0., 0., 0.],
               [1., 2., 3.],
               [4., 5., 6.],
               [0., 0., 0.]], dtype=float32)
        >>> F.nn.pad(inp, pad_width=((1, 1), (1, 2)), mode="replicate").numpy()
        array([[1., 1., 2., 3., 3., 3.],
               [1., 1., 2., 3., 3., 3.],
               [4., 4., 5., 6., 6., 6.],
               [4., 4., 5., 6., 6., 6.]], dtype=float32)
        >>> F.nn.pad(inp, pad_width=((0, 0), (2, 1)), mode="reflect").numpy()
        array([[3., 2., 1., 2., 3., 2.],
               [6., 5., 4., 5., 6., 5.]], dtype=float32)
        >>> F.nn.pad(inp, ((0, 1), (1, 0)), constant_value=9.).numpy()
        array([[9., 1., 2., 3.],
               [9., 4., 5., 6.],
               [9., 9., 9., 9.]], dtype=float32)
    """
    src = as_tensor(src, "pad")
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {sorted(_PAD_MODES)}, got {mode!r}")
    pw = tuple(tuple(int(v) for v in p) for p in pad_width)
    if len(pw) < src.ndim and all(len(p) == 2 for p in pw):
        pw += ((0, 0),) * (src.ndim - len(pw))
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
    """Randomly zeroes elements during training (inverted dropout).

    Each element is zeroed with probability ``drop_prob`` and the others are scaled by
    ``1 / (1 - drop_prob)``, so the expected value is unchanged. The mask comes from
    engine.random, so ``mge.random.seed`` makes it repeatable.

    Args:
        inp: floating-point input tensor.
        drop_prob: the probability of zeroing an element, in [0, 1).
        training: if False (or drop_prob is 0), ``inp`` is returned unchanged.

    Returns:
        a tensor of ``inp``'s shape and dtype.

    Examples:
        >>> x = F.ones((1000,))
        >>> sorted(set(F.dropout(x, 0.5).numpy().tolist()))
        [0.0, 2.0]
        >>> F.dropout(x, 0.5, training=False) is x
        True
    """
    inp = _float_input(inp, "dropout")
    if not 0 <= drop_prob < 1:
        raise ValueError(f"dropout: drop_prob must be in [0, 1), got {drop_prob}")
    if not training or drop_prob == 0:
        return inp
    keep = _random.uniform(size=inp.shape, device=inp.device) >= drop_prob
    return inp * E.Cast.apply(keep, dtype=inp.dtype) * (1.0 / (1.0 - drop_prob))


del concat, Tensor, _dt

# The rest of MegEngine's F.nn names, defined in their own files (issue 11).
from .activation import (  # noqa: E402,F401
    hsigmoid,
    hswish,
    logsigmoid,
    logsumexp,
    prelu,
    relu6,
    softplus,
)
from .attention import multi_head_attention  # noqa: E402,F401
from .layout import pixel_shuffle  # noqa: E402,F401
from .lookup import embedding, indexing_one_hot  # noqa: E402,F401
from .loss import hinge_loss  # noqa: E402,F401
from .math import normalize  # noqa: E402,F401
from .norm import (  # noqa: E402,F401
    general_norm,
    instance_norm,
    local_response_norm,
    sync_batch_norm,
)
from .vision import nms, roi_align, roi_pooling  # noqa: E402,F401
