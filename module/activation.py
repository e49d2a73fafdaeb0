"""Activation layers: thin wrappers over engine.functional."""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter

from .module import Module

__all__ = ["ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softmax"]


class ReLU(Module):
    """Applies the rectified linear unit elementwise: ``max(x, 0)`` (see :func:`~.relu`).

    Args:
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: any shape, floating point; output: the same shape.

    Examples:
        >>> m = M.ReLU()
        >>> m(Tensor([-1., 0., 2.])).numpy()
        array([0., 0., 2.], dtype=float32)
    """
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """Applies the leaky rectified linear unit elementwise: ``x`` where ``x > 0``, else
    ``negative_slope * x`` (see :func:`~.leaky_relu`).

    Args:
        negative_slope: the slope for negative inputs.
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: any shape, floating point; output: the same shape.

    Examples:
        >>> m = M.LeakyReLU(0.1)
        >>> m(Tensor([-2., 0., 3.])).numpy()
        array([-0.2,  0. ,  3. ], dtype=float32)
    """

    def __init__(self, negative_slope=0.01, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def forward(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def _module_info_string(self):
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """Applies the exact Gaussian error linear unit elementwise: ``x * Phi(x)``
    (see :func:`~.gelu`).

    Args:
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: any shape, floating point; output: the same shape.

    Examples:
        >>> M.GELU()(Tensor([-1., 0., 1.])).numpy()
        array([-0.15865526,  0.        ,  0.8413447 ], dtype=float32)
    """

    def forward(self, inputs):
        return F.gelu(inputs)


class SiLU(Module):
    """Applies the sigmoid linear unit elementwise: ``x * sigmoid(x)`` (see :func:`~.silu`).

    Args:
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: any shape, floating point; output: the same shape.

    Examples:
        >>> M.SiLU()(Tensor([-1., 0., 1.])).numpy()
        array([-0.26894143,  0.        ,  0.7310586 ], dtype=float32)
    """

    def forward(self, inputs):
        return F.silu(inputs)


class Sigmoid(Module):
    """Applies the logistic sigmoid elementwise: ``1 / (1 + exp(-x))``
    (see :func:`~.sigmoid`).

    Args:
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: any shape, floating point; output: the same shape.

    Examples:
        >>> M.Sigmoid()(Tensor([-2., 0., 2.])).numpy()
        array([0.11920292, 0.5       , 0.880797  ], dtype=float32)
    """
    def forward(self, inputs):
        return F.sigmoid(inputs)


class Softmax(Module):
    """Applies softmax along an axis, so that the outputs along it are positive and sum to 1
    (see :func:`~.softmax`).

    Args:
        axis: the axis; None means MegEngine's default, axis 0 for 0-D and 1-D input and axis
            1 otherwise.
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: any shape, floating point; output: the same shape.

    Examples:
        >>> m = M.Softmax(axis=1)
        >>> m
        Softmax(axis=1)
        >>> m(Tensor([[1., 1.], [0., np.log(3.)]])).numpy().round(4)
        array([[0.5 , 0.5 ],
               [0.25, 0.75]], dtype=float32)
    """

    def __init__(self, axis=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def forward(self, inputs):
        return F.softmax(inputs, self.axis)

    def _module_info_string(self):
        return f"axis={self.axis}"


__all__ += ["PReLU"]


class PReLU(Module):
    r"""``max(x, 0) + a * min(x, 0)`` with a learnable slope ``a``: one shared slope
    (num_parameters=1) or one per channel of NCHW input (weight (1, C, 1, 1)).

    Args:
        num_parameters: 1, or the number of input channels.
        init: the initial slope.

    Examples:
        >>> import numpy as np
        >>> m = M.PReLU()
        >>> m(Tensor(np.array([-1.2, -3.7, 2.7], dtype=np.float32))).numpy()
        array([-0.3  , -0.925,  2.7  ], dtype=float32)
    """

    def __init__(self, num_parameters=1, init=0.25, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) \
                or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters = num_parameters
        shape = (1, num_parameters, 1, 1) if num_parameters > 1 else (1,)
        self.weight = Parameter(np.full(shape, init, dtype=np.float32))

    def forward(self, inputs):
        if self.num_parameters > 1 and (inputs.ndim < 2 or
                                        inputs.shape[1] != self.num_parameters):
            raise ValueError(f"PReLU: input of shape {tuple(inputs.shape)} does not have "
                             f"{self.num_parameters} channels on axis 1")
        weight = self.weight
        if self.num_parameters > 1 and inputs.ndim != 4:
            weight = weight.reshape((1, self.num_parameters) + (1,) * (inputs.ndim - 2))
        return F.prelu(inputs, weight)

    def _module_info_string(self):
        return f"num_parameters={self.num_parameters}"
