"""Activation layers: thin wrappers over engine.functional."""
import engine.functional as F

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

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

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

    def forward(self, x):
        return F.gelu(x)


class SiLU(Module):
    """Applies the sigmoid linear unit elementwise: ``x * sigmoid(x)`` (see :func:`~.silu`).

    Args:
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: any shape, floating point; output: the same shape.

    Examples:
        >>> M.SiLU()(Tensor([-1., 0., 1.])).numpy()
        array([-0.2689414,  0.       ,  0.7310586], dtype=float32)
    """

    def forward(self, x):
        return F.silu(x)


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
    def forward(self, x):
        return F.sigmoid(x)


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

    def forward(self, x):
        return F.softmax(x, self.axis)

    def _module_info_string(self):
        return f"axis={self.axis}"
