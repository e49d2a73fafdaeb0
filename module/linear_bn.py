"""LinearBn1d and LinearBnRelu1d: a `linear` Linear and a `bn` BatchNorm1d in sequence, with
MegEngine's submodule names (and its extra top-level `bias`) so state_dicts load."""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter

from .batchnorm import BatchNorm1d
from .linear import Linear
from .module import Module

__all__ = ["LinearBn1d", "LinearBnRelu1d"]


class _LinearBnActivation1d(Module):
    def __init__(self, in_features, out_features, bias=True, compute_mode="default", eps=1e-5,
                 momentum=0.9, affine=True, track_running_stats=True, **kwargs):
        super().__init__(**kwargs)
        self.out_features = out_features
        self.in_features = in_features
        # MegEngine keeps a zero (out_features,) `bias` here besides linear.bias: it is saved and
        # loaded with the module (QAT fusion reads it) but forward does not use it
        self.bias = Parameter(np.zeros((out_features,), np.float32)) if bias else None
        self.linear = Linear(in_features, out_features, bias, compute_mode, **kwargs)
        self.bn = BatchNorm1d(out_features, eps, momentum, affine, track_running_stats)


class LinearBn1d(_LinearBnActivation1d):
    r"""A fused :class:`Linear` (submodule ``linear``) and :class:`BatchNorm1d` (``bn``):
    bn(linear(inp)) for an (N, in_features) input; in training the batch statistics normalise
    the output and update ``bn``'s running statistics, as the two modules in sequence do.

    Args:
        in_features, out_features, bias, compute_mode: as :class:`Linear`.
        eps, momentum, affine, track_running_stats: as :class:`BatchNorm1d`.

    Returns:
        The (N, out_features) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.LinearBn1d(3, 4)
        >>> sorted(m.state_dict())[:4]
        ['bias', 'bn.bias', 'bn.running_mean', 'bn.running_var']
        >>> sorted(m.state_dict())[4:]
        ['bn.weight', 'linear.bias', 'linear.weight']
        >>> m(mge.tensor(np.random.randn(5, 3).astype("float32"))).shape
        (5, 4)
    """

    def forward(self, inp):
        return self.bn(self.linear(inp))


class LinearBnRelu1d(_LinearBnActivation1d):
    r"""A fused :class:`Linear` (``linear``), :class:`BatchNorm1d` (``bn``) and :func:`~.relu`:
    relu(bn(linear(inp))).

    Args: as :class:`LinearBn1d`.

    Returns:
        The (N, out_features) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.LinearBnRelu1d(3, 4)
        >>> out = m(mge.tensor(np.random.randn(5, 3).astype("float32")))
        >>> print(out.shape, bool((out.numpy() >= 0).all()))
        (5, 4) True
    """

    def forward(self, inp):
        return F.relu(self.bn(self.linear(inp)))
