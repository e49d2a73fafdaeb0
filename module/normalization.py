"""GroupNorm and LayerNorm."""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter

from . import init
from ._utils import positive_int
from .module import Module

__all__ = ["GroupNorm", "LayerNorm"]


class GroupNorm(Module):
    """Normalise (N, C, ...) input over groups of C / num_groups channels; weight and bias (C,)."""

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
    """Normalise over the trailing dims `normalized_shape`; weight and bias of that shape."""

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
