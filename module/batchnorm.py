"""BatchNorm1d and BatchNorm2d (MegEngine semantics).

weight, bias, running_mean, running_var have shape (1, C, 1, 1) (flattened to (C,) in
state_dict). momentum=0.9 means running = 0.9 * running + 0.1 * batch statistic (PyTorch's
momentum=0.1); the batch is normalised with its biased variance and the running variance is
updated with the unbiased one (inside F.batch_norm).
"""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter, Tensor

from . import init
from ._utils import positive_int
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    _flat_state = True
    _ndims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.9, affine=True,
                 track_running_stats=True, freeze=False, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.num_features = positive_int(num_features, "num_features", layer)
        if freeze and not track_running_stats:
            raise ValueError(f"{layer}: freeze=True needs track_running_stats=True")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self._track_running_stats_saved = track_running_stats
        self.freeze = freeze
        shape = (1, num_features, 1, 1)
        self.weight = Parameter(np.ones(shape, np.float32)) if affine else None
        self.bias = Parameter(np.zeros(shape, np.float32)) if affine else None
        self.running_mean = Tensor(np.zeros(shape, np.float32)) if track_running_stats else None
        self.running_var = Tensor(np.ones(shape, np.float32)) if track_running_stats else None

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _as_4d(self, inp):
        """(N, C, ...) -> (N, C, H, W): F.batch_norm normalises 4-D tensors per channel."""
        layer = type(self).__name__
        if inp.ndim not in self._ndims:
            raise ValueError(f"{layer}: expected a {' or '.join(f'{n}-D' for n in self._ndims)} "
                             f"input, got shape {tuple(inp.shape)}")
        if inp.shape[1] != self.num_features:
            raise ValueError(f"{layer}: input of shape {tuple(inp.shape)} has {inp.shape[1]} "
                             f"channels, expected num_features={self.num_features}")
        if inp.ndim == 4:
            return inp
        return inp.reshape(tuple(inp.shape) + (1,) * (4 - inp.ndim))

    def forward(self, inp):
        if not self._track_running_stats_saved and self.track_running_stats:
            raise ValueError(f"{type(self).__name__}: track_running_stats was False at "
                             f"construction and cannot be switched on later")
        x = self._as_4d(inp)
        weight, bias = self.weight, self.bias
        if self.freeze:
            # Frozen: a fixed affine map from the running statistics; no gradient to weight/bias.
            scale = (self.running_var + self.eps) ** -0.5
            if weight is not None:
                scale = scale * weight.detach()
            shift = -self.running_mean * scale
            if bias is not None:
                shift = shift + bias.detach()
            out = x * scale + shift
        else:
            tracking = self.track_running_stats
            out = F.batch_norm(
                x, self.running_mean if tracking else None, self.running_var if tracking else None,
                weight, bias, training=self.training or not tracking,
                momentum=self.momentum if self.training and tracking else 0.0, eps=self.eps)
        return out if out.ndim == inp.ndim else out.reshape(inp.shape)

    def _module_info_string(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input over N (and L)."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input over N, H, W."""

    _ndims = (4,)
