"""complex64 tensors (MegEngine's F.complex, real, imag, polar). Storage is numpy/CuPy
complex64; most other ops do not take complex input and fail naming the op."""
from engine import dtype as _dt
from engine.ops import complex as C
from engine.ops import elemwise as E
from engine.tensor import Tensor

from .elemwise import cos, sin

__all__ = ["complex", "real", "imag", "polar"]


def _float32_part(x, fn, name, like=None):
    if not isinstance(x, Tensor):
        x = Tensor(x, device=None if like is None else like.device)
    if not _dt.is_float(x.dtype):
        raise TypeError(f"{fn}: {name} must be a float tensor, got {x.dtype}")
    return x if x.dtype == _dt.float32 else E.Cast.apply(x, dtype=_dt.float32)


def _complex_input(z, fn):
    if not isinstance(z, Tensor) or z.dtype.kind != "c":
        got = z.dtype if isinstance(z, Tensor) else type(z).__name__
        raise TypeError(f"{fn}: expected a complex64 tensor, got {got}")
    return z


def complex(real, imag):
    r"""A complex64 tensor with real part ``real`` and imaginary part ``imag``.

    Args:
        real: float tensor (or number/list) of the real parts.
        imag: float tensor of the imaginary parts, broadcastable against real.

    Returns:
        a complex64 tensor.

    Examples:
        >>> z = F.complex(Tensor([1.0, 2.0]), Tensor([3.0, 4.0]))
        >>> z.dtype
        dtype('complex64')
        >>> z.numpy()
        array([1.+3.j, 2.+4.j], dtype=complex64)
    """
    re = _float32_part(real, "complex", "real")
    im = _float32_part(imag, "complex", "imag", like=re)
    return C.Complex.apply(re, im)


def real(complex):
    r"""The real part of a complex64 tensor, as float32.

    Args:
        complex: complex64 tensor.

    Returns:
        a float32 tensor of the same shape.

    Examples:
        >>> F.real(F.complex(Tensor([1.0, 2.0]), Tensor([3.0, 4.0]))).numpy()
        array([1., 2.], dtype=float32)
    """
    return C.Real.apply(_complex_input(complex, "real"))


def imag(complex):
    r"""The imaginary part of a complex64 tensor, as float32.

    Args:
        complex: complex64 tensor.

    Returns:
        a float32 tensor of the same shape.

    Examples:
        >>> F.imag(F.complex(Tensor([1.0, 2.0]), Tensor([3.0, 4.0]))).numpy()
        array([3., 4.], dtype=float32)
    """
    return C.Imag.apply(_complex_input(complex, "imag"))


def polar(abs, angle):
    r"""The complex64 tensor ``abs * (cos(angle) + i sin(angle))``.

    Args:
        abs: float tensor of magnitudes.
        angle: float tensor of angles in radians.

    Returns:
        a complex64 tensor.

    Examples:
        >>> import numpy as np
        >>> z = F.polar(Tensor([2.0]), Tensor([np.pi / 2]))
        >>> F.imag(z).numpy()
        array([2.], dtype=float32)
    """
    r = _float32_part(abs, "polar", "abs")
    a = _float32_part(angle, "polar", "angle", like=r)
    return C.Complex.apply(r * cos(a), r * sin(a))
