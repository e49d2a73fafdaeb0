"""Bit shifts of integer tensors (no gradient: the results are integers)."""
from .core import Op


class LeftShift(Op):
    differentiable = False

    def forward(xp, a, b):
        return xp.left_shift(a, b).astype(a.dtype, copy=False)


class RightShift(Op):
    """Arithmetic shift (the sign is kept), as numpy and MegEngine."""
    differentiable = False

    def forward(xp, a, b):
        return xp.right_shift(a, b).astype(a.dtype, copy=False)
