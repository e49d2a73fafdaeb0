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
    """Batch normalisation of (N, C) or (N, C, L) input over N (and L), per channel.

    Args:
        num_features: the number of channels C.
        eps: added to the variance.
        momentum: the weight of the old running value (MegEngine's sense):
            ``running = momentum * running + (1 - momentum) * batch``; 0.9 is PyTorch's 0.1.
        affine: whether to learn a per-channel scale (weight) and shift (bias).
        track_running_stats: keep running_mean and running_var and normalise with them in
            eval mode; if False the batch statistics are used in both modes.
        freeze: normalise with the running statistics in both modes, update nothing and pass
            no gradient to weight and bias (for fine-tuning); needs track_running_stats.
        **kwargs: ``name``, passed on to :class:`Module`.

    Attributes:
        weight: Parameter of shape (1, C, 1, 1) (all ones at first), or None.
        bias: Parameter of shape (1, C, 1, 1) (all zeros at first), or None.
        running_mean: buffer of shape (1, C, 1, 1), zeros at first.
        running_var: buffer of shape (1, C, 1, 1), ones at first; updated with the unbiased
            batch variance (the batch itself is normalised with the biased one).
        state_dict() stores these flattened to (C,).

    Shape:
        input: (N, C) or (N, C, L), floating point; output: the same shape.

    Examples:
        >>> m = M.BatchNorm1d(2)
        >>> m
        BatchNorm1d(2, eps=1e-05, momentum=0.9, affine=True, track_running_stats=True)
        >>> x = Tensor([[1., 2.], [3., 6.]])
        >>> m(x).numpy().round(4)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
        >>> m.running_mean.numpy().flatten(), m.running_var.numpy().flatten()
        (array([0.2, 0.4], dtype=float32), array([1.1, 1.7], dtype=float32))
        >>> m.eval()
        >>> m(x).numpy().round(4)
        array([[0.7628, 1.2271],
               [2.6697, 4.295 ]], dtype=float32)
    """

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input over N, H and W, per channel.

    Args:
        num_features: the number of channels C.
        eps: added to the variance.
        momentum: the weight of the old running value (MegEngine's sense):
            ``running = momentum * running + (1 - momentum) * batch``; 0.9 is PyTorch's 0.1.
        affine: whether to learn a per-channel scale (weight) and shift (bias).
        track_running_stats: keep running_mean and running_var and normalise with them in
            eval mode; if False the batch statistics are used in both modes.
        freeze: normalise with the running statistics in both modes, update nothing and pass
            no gradient to weight and bias (for fine-tuning); needs track_running_stats.
        **kwargs: ``name``, passed on to :class:`Module`.

    Attributes:
        weight: Parameter of shape (1, C, 1, 1) (all ones at first), or None.
        bias: Parameter of shape (1, C, 1, 1) (all zeros at first), or None.
        running_mean: buffer of shape (1, C, 1, 1), zeros at first.
        running_var: buffer of shape (1, C, 1, 1), ones at first; updated with the unbiased
            batch variance (the batch itself is normalised with the biased one).
        state_dict() stores these flattened to (C,).

    Shape:
        input: (N, C, H, W), floating point; output: the same shape.

    Examples:
        >>> m = M.BatchNorm2d(3)
        >>> x = Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2))
        >>> y = m(x)
        >>> y.shape
        (2, 3, 2, 2)
        >>> y.numpy().mean(axis=(0, 2, 3)).round(4), y.numpy().std(axis=(0, 2, 3)).round(4)
        (array([0., 0., 0.], dtype=float32), array([1., 1., 1.], dtype=float32))
        >>> m.running_mean.numpy().flatten().round(4)
        array([0.75, 1.15, 1.55], dtype=float32)
        >>> sorted(m.state_dict())
        ['bias', 'running_mean', 'running_var', 'weight']
    """

    _ndims = (4,)
