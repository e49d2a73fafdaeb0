"""Shape helpers of megengine.core.tensor.utils that user code imports."""
import numbers

import numpy as np

from ... import dtype as _dtype
from ...ops import core as _ops_core


def subgraph_fn(*args, **kwargs):
    """Declares an op from elementwise steps: engine.core.tensor.subgraph.subgraph_fn (imported
    on first use; it needs engine's autodiff, which imports engine.core)."""
    from .subgraph import subgraph_fn as impl

    return impl(*args, **kwargs)

__all__ = ["astensor1d", "isscalar", "make_shape_tuple", "subgraph_fn"]


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


def _tensor_type():
    from ...tensor import Tensor  # engine.tensor imports engine.core's users: import late

    return Tensor


def isscalar(x):
    r"""Returns whether ``x`` is a scalar: a 0-d Tensor, or what :func:`numpy.isscalar` accepts.

    Examples:
        >>> import engine
        >>> from engine.core.tensor.utils import isscalar
        >>> isscalar(engine.tensor(1.0)), isscalar(engine.tensor([1.0])), isscalar(3)
        (True, False, True)
    """
    if isinstance(x, _tensor_type()):
        return x.ndim == 0
    return bool(np.isscalar(x))


def astensor1d(x, *reference, dtype=None, device=None):
    r"""Converts a shape-like value to a 1-d Tensor.

    Args:
        x: a sequence of scalars and/or 0-d Tensors, a 1-d numpy array, or a Tensor (returned
            as it is, whatever its dtype and device).
        reference: Tensors whose device the result takes when ``device`` is None.
        dtype: the result's dtype (default: int32 for integers, float32 otherwise).
        device: the result's device.

    Returns:
        a 1-d Tensor.

    Examples:
        >>> import engine
        >>> from engine.core.tensor.utils import astensor1d
        >>> t = astensor1d([2, engine.tensor(3)])
        >>> t.numpy(), t.dtype
        (array([2, 3], dtype=int32), dtype('int32'))
    """
    Tensor = _tensor_type()
    if isinstance(x, Tensor):
        return x
    if device is None:
        device = next((r.device for r in reference if isinstance(r, Tensor)), None)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
        return _stack_parts(x, dtype, device)
    if not isinstance(x, (list, tuple, np.ndarray)):
        raise TypeError(f"astensor1d: expected a sequence, a numpy array or a Tensor, got "
                        f"{type(x).__name__} {x!r}")
    array = np.asarray(x)
    if array.size == 0:
        array = array.reshape(0)
    if array.ndim != 1:
        raise ValueError(f"astensor1d: expected 1-d data, got shape {array.shape}")
    out = Tensor(array, dtype=dtype, device=device)
    symbolic = _ops_core.symbolic  # (VarNode, ...) once graph nodes exist
    if symbolic is not None and any(isinstance(r, symbolic[0]) for r in reference):
        from ...utils.network_node import ImmutableTensor

        return ImmutableTensor(out).outputs[0]  # next to a graph's var: a constant of its graph
    return out


def _stack_parts(parts, dtype, device):
    """A 1-d Tensor from scalars and 0-d / one-element Tensors (Tensor parts keep their grad)."""
    Tensor = _tensor_type()
    from ... import functional as F

    if device is None:
        device = next(v.device for v in parts if isinstance(v, Tensor))
    pieces = []
    for v in parts:
        t = v if isinstance(v, Tensor) else Tensor(v, device=device)
        if t.size != 1:
            raise ValueError(f"astensor1d: each Tensor in the sequence must hold one value, got "
                             f"shape {t.shape}")
        pieces.append(t.reshape(1))
    target = _dtype.canonical(dtype) if dtype is not None else None
    if target is None:
        target = pieces[0].dtype
        for p in pieces[1:]:
            target = _dtype.promote(target, p.dtype)
    return F.concat([p.astype(target) if p.dtype != target else p for p in pieces])
