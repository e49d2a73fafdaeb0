"""BatchMatMulActivation: a batch of matrix products with a bias and an optional ReLU."""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter, Tensor

from . import init
from ._utils import positive_int
from .module import Module

__all__ = ["BatchMatMulActivation"]


class BatchMatMulActivation(Module):
    r"""Batched :func:`~.matmul` with an activation (only ReLU), no transpose anywhere:
    ``act(matmul(weight, x) + bias)`` for weight (batch, out_features, in_features) and x
    (batch, in_features, K).

    As in MegEngine, the (out_features,) bias is added along the last axis of the
    (batch, out_features, K) product, so with a bias K must equal out_features (or
    out_features be 1).

    Args:
        batch: the number of matrices in the batch.
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if ``False``, the layer does not learn an additive bias. Default: ``True``
        nonlinear_mode: ``"identity"`` or ``"relu"`` (any case). Default: ``"identity"``

    Returns:
        The (batch, out_features, K) output of forward(x).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.BatchMatMulActivation(2, 3, 4, nonlinear_mode="relu")
        >>> m(mge.tensor(np.random.randn(2, 3, 4).astype("float32"))).shape
        (2, 4, 4)
    """

    def __init__(self, batch, in_features, out_features, bias=True, nonlinear_mode="identity",
                 **kwargs):
        super().__init__(**kwargs)
        layer = "BatchMatMulActivation"
        self.batch = positive_int(batch, "batch", layer)
        self.in_features = positive_int(in_features, "in_features", layer)
        self.out_features = positive_int(out_features, "out_features", layer)
        self.nonlinear_mode = str(nonlinear_mode).lower()
        if self.nonlinear_mode not in ("identity", "relu"):
            raise ValueError(f"{layer}: nonlinear_mode must be 'identity' or 'relu', got "
                             f"{nonlinear_mode!r}")
        self.weight = Parameter(np.zeros((batch, out_features, in_features), np.float32))
        self.bias = Parameter(np.zeros((out_features,), np.float32)) if bias else None
        self.reset_parameters()

    def _get_fanin(self):
        return self.in_features

    def reset_parameters(self):
        """weight ~ N(0, 1 / in_features), bias = 0."""
        init.normal_(self.weight, 0.0, np.sqrt(1 / self._get_fanin()))
        if self.bias is not None:
            init.zeros_(self.bias)

    def _calc_linear(self, x, weight, bias):
        if not isinstance(x, Tensor) or x.ndim != 3 or x.shape[:2] != (self.batch,
                                                                        self.in_features):
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"BatchMatMulActivation: expected an input of shape (batch="
                             f"{self.batch}, in_features={self.in_features}, K), got {shape}")
        res = F.matmul(weight, x)
        if bias is not None:
            if res.shape[-1] != self.out_features and self.out_features != 1:
                raise ValueError(f"BatchMatMulActivation: the bias ({self.out_features},) is "
                                 f"added along the last axis, which needs K == out_features; "
                                 f"got an input of shape {tuple(x.shape)}")
            res = res + bias
        if self.nonlinear_mode == "relu":
            res = F.relu(res)
        return res

    def forward(self, x):
        return self._calc_linear(x, self.weight, self.bias)

    def _module_info_string(self):
        return (f"batch={self.batch}, in_features={self.in_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
