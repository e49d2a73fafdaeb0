"""Shape helpers of megengine.core.tensor.utils that user code imports."""
import numbers

import numpy as np

__all__ = ["make_shape_tuple"]


def make_shape_tuple(shape):
    r"""Turns a shape given as an int, a sequence of ints, a numpy array or a Tensor into a tuple
    of Python ints.

    Args:
        shape: the shape.

    Returns:
        a tuple of ints.

    Examples:
        >>> import engine as mge
        >>> from engine.core.tensor.utils import make_shape_tuple
        >>> make_shape_tuple([2, 3])
        (2, 3)
        >>> make_shape_tuple(mge.tensor([4, 5]))
        (4, 5)
        >>> make_shape_tuple(7)
        (7,)
    """
    if hasattr(shape, "numpy"):  # a Tensor
        shape = shape.numpy()
    if isinstance(shape, np.ndarray):
        if shape.ndim > 1:
            raise ValueError(f"make_shape_tuple: a shape must be 1-d, got an array of shape "
                             f"{shape.shape}")
        shape = shape.reshape(-1).tolist()
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    out = []
    for s in shape:
        if hasattr(s, "item"):
            s = s.item()
        if not isinstance(s, numbers.Integral) and not (isinstance(s, float) and s.is_integer()):
            raise TypeError(f"make_shape_tuple: shape entries must be integers, got {shape!r}")
        out.append(int(s))
    return tuple(out)
