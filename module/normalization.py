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
