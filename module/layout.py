"""Layers over layout functions: Pad, Concat, PixelShuffle (MegEngine's names)."""
import engine.functional as F

from .module import Module

__all__ = ["Pad", "Concat", "PixelShuffle"]


class Pad(Module):
    r"""Pad the input (see :func:`~.functional.nn.pad`).

    Args:
        pad_width: a (before, after) pair per leading axis.
        mode: "constant", "reflect" or "replicate".
        constant_val: fill value of mode "constant".

    Examples:
        >>> m = M.Pad(((1, 1),), constant_val=9)
        >>> m(Tensor([[1.0, 2.0]])).numpy()
        array([[9., 9.],
               [1., 2.],
               [9., 9.]], dtype=float32)
    """

    def __init__(self, pad_width, mode="constant", constant_val=0.0):
        super().__init__()
        self.pad_width = pad_width
        self.mode = mode
        self.pad_val = constant_val

    def forward(self, src):
        return F.nn.pad(src, pad_width=self.pad_width, mode=self.mode,
                        constant_value=self.pad_val)

    def _module_info_string(self):
        return f"pad_width={self.pad_width}, mode={self.mode}, constant_val={self.pad_val}"


class Concat(Module):
    r"""Concatenate a list of tensors (see :func:`~.functional.concat`); the axis is given per
    call.

    Examples:
        >>> m = M.Concat()
        >>> m([Tensor([1.0]), Tensor([2.0, 3.0])]).numpy()
        array([1., 2., 3.], dtype=float32)
    """

    def forward(self, inps, axis=0):
        return F.concat(inps, axis)


class PixelShuffle(Module):
    r"""Rearrange (..., C * r^2, H, W) into (..., C, H * r, W * r), r = upscale_factor.

    Args:
        upscale_factor: the factor r.

    Examples:
        >>> import numpy as np
        >>> m = M.PixelShuffle(3)
        >>> m(Tensor(np.ones((1, 9, 4, 4), dtype=np.float32))).shape
        (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor, **kwargs):
        super().__init__(**kwargs)
        self.upscale_factor = upscale_factor

    def forward(self, x):
        return F.pixel_shuffle(x, self.upscale_factor)

    def _module_info_string(self):
        return f"upscale_factor={self.upscale_factor}"
