"""GroupNorm and LayerNorm."""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter

from . import init
from ._utils import positive_int
from .module import Module

__all__ = ["GroupNorm", "LayerNorm"]


class GroupNorm(Module):
    """Group normalisation: each sample is normalised over groups of C / num_groups
    channels (and all positions), then scaled and shifted per channel (see
    :func:`~.group_norm`).

    Args:
        num_groups: the number of groups; it must divide num_channels.
        num_channels: the number of channels C.
        eps: added to the variance.
        affine: whether to learn a per-channel scale (weight, ones at first) and shift (bias,
            zeros at first), each of shape (C,).
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: (N, C, ...), floating point; output: the same shape.

    Examples:
        >>> m = M.GroupNorm(2, 4)
        >>> m
        GroupNorm(groups=2, channels=4, eps=1e-05, affine=True)
        >>> x = Tensor(np.array([1., 3., 2., 6., 0., 0., 5., 5.], "float32").reshape(1, 4, 1, 2))
        >>> m(x)[0, :, 0].numpy().round(4)
        array([[-1.069 ,  0.    ],
               [-0.5345,  1.6036],
               [-1.    , -1.    ],
               [ 1.    ,  1.    ]], dtype=float32)
    """

    _flat_state = True

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, **kwargs):
        super().__init__(**kwargs)
        positive_int(num_groups, "num_groups", "GroupNorm")
        positive_int(num_channels, "num_channels", "GroupNorm")
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self.weight = Parameter(np.ones(num_channels, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, np.float32)) if affine else None
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        return F.nn.group_norm(x, self.num_groups, self.affine, self.weight, self.bias, self.eps)

    def _module_info_string(self):
        return (f"groups={self.num_groups}, channels={self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}")


class LayerNorm(Module):
    """Layer normalisation: normalises over the trailing dims ``normalized_shape``,
    then scales and shifts elementwise (see :func:`~.layer_norm`).

    Args:
        normalized_shape: an int or a tuple of ints, the trailing dims of the input.
        eps: added to the variance.
        affine: whether to learn an elementwise scale (weight, ones at first) and shift
            (bias, zeros at first), each of shape normalized_shape.
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: (..., *normalized_shape), floating point; output: the same shape.

    Examples:
        >>> m = M.LayerNorm(3)
        >>> m
        LayerNorm(normalized_shape=(3,), eps=1e-05, affine=True)
        >>> m(Tensor([[1., 2., 3.], [2., 2., 2.]])).numpy().round(4)
        array([[-1.2247,  0.    ,  1.2247],
               [ 0.    ,  0.    ,  0.    ]], dtype=float32)
    """

    _flat_state = True

    def __init__(self, normalized_shape, eps=1e-5, affine=True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(s) for s in normalized_shape)
        self.eps = eps
        self.affine = affine
        shape = self.normalized_shape
        self.weight = Parameter(np.ones(shape, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(shape, np.float32)) if affine else None
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        return F.nn.layer_norm(x, self.normalized_shape, self.affine, self.weight, self.bias,
                               self.eps)

    def _module_info_string(self):
        return (f"normalized_shape={self.normalized_shape}, eps={self.eps}, "
                f"affine={self.affine}")


__all__ += ["InstanceNorm", "GeneralNorm", "LocalResponseNorm"]


class InstanceNorm(Module):
    r"""Normalise each (sample, channel) plane of (N, C, ...) input over its positions, then
    scale and shift per channel (weight and bias (C,)).

    Args:
        num_channels: C.
        eps: added to the variance.
        affine: learn weight and bias.

    Examples:
        >>> import numpy as np
        >>> m = M.InstanceNorm(2)
        >>> m(Tensor(np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2))).shape
        (1, 2, 2, 2)
    """

    _flat_state = True

    def __init__(self, num_channels, eps=1e-05, affine=True, **kwargs):
        super().__init__(**kwargs)
        positive_int(num_channels, "num_channels", "InstanceNorm")
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self.weight = Parameter(np.ones(num_channels, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, np.float32)) if affine else None
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        return F.nn.instance_norm(x, self.affine, self.weight, self.bias, self.eps)

    def _module_info_string(self):
        return f"channels={self.num_channels}, eps={self.eps}, affine={self.affine}"


class GeneralNorm(Module):
    r"""Normalise over the axes ``normalized_axis`` (of sizes ``normalized_shape``), then scale
    and shift elementwise by weight and bias of shape normalized_shape.

    Args:
        normalized_shape: the sizes of the normalised axes (needed when affine).
        normalized_axis: an int or an increasing sequence of axes, matching normalized_shape.
        eps: added to the variance.
        affine: learn weight and bias.

    Examples:
        >>> import numpy as np
        >>> inp = Tensor(np.arange(2 * 3 * 4 * 4).astype(np.float32).reshape(2, 3, 4, 4))
        >>> m = M.GeneralNorm((2, 3), (0, 1))
        >>> m(inp).numpy().shape
        (2, 3, 4, 4)
    """

    def __init__(self, normalized_shape=None, normalized_axis=0, eps=1e-05, affine=True,
                 **kwargs):
        super().__init__(**kwargs)
        axes = tuple(normalized_axis) if isinstance(normalized_axis, (list, tuple)) \
            else (normalized_axis,)
        shape = None
        if normalized_shape is not None:
            shape = tuple(normalized_shape) if isinstance(normalized_shape, (list, tuple)) \
                else (normalized_shape,)
        if affine:
            if shape is None:
                raise ValueError("GeneralNorm: normalized_shape must be given when affine is True")
            if len(shape) != len(axes):
                raise ValueError(f"GeneralNorm: normalized_shape {shape} and normalized_axis "
                                 f"{axes} must have one length")
        if len(set(axes)) != len(axes):
            raise ValueError(f"GeneralNorm: repeated axis in normalized_axis {axes}")
        self.normalized_shape = shape
        self.normalized_axis = axes
        self.eps = eps
        self.affine = affine
        self.weight = Parameter(np.ones(shape, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(shape, np.float32)) if affine else None
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        axes = tuple(a + x.ndim if a < 0 else a for a in self.normalized_axis)
        if self.normalized_shape is not None:
            got = tuple(x.shape[a] for a in axes if a < x.ndim)
            if got != self.normalized_shape:
                raise ValueError(f"GeneralNorm: input of shape {tuple(x.shape)} has sizes {got} "
                                 f"on axes {self.normalized_axis}, expected "
                                 f"{self.normalized_shape}")
        return F.nn.general_norm(x, axes, self.affine, self.weight, self.bias, self.eps)

    def _module_info_string(self):
        return (f"normalized_shape={self.normalized_shape}, normalized_axis="
                f"{self.normalized_axis}, eps={self.eps}, affine={self.affine}")


class LocalResponseNorm(Module):
    r"""Local response normalisation across channels (see :func:`~.local_response_norm`).

    Args:
        kernel_size: odd channel window.
        k: additive constant.
        alpha: scale of the sum of squares.
        beta: exponent.

    Examples:
        >>> import numpy as np
        >>> m = M.LocalResponseNorm(kernel_size=3, k=1.0)
        >>> m(Tensor(np.ones((1, 3, 2, 2), dtype=np.float32))).shape
        (1, 3, 2, 2)
    """

    def __init__(self, kernel_size=5, k=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.k = k
        self.alpha = alpha
        self.beta = beta

    def forward(self, inp):
        return F.local_response_norm(inp, self.kernel_size, self.k, self.alpha, self.beta)

    def _module_info_string(self):
        return (f"kernel_size={self.kernel_size}, k={self.k}, alpha={self.alpha}, "
                f"beta={self.beta}")
