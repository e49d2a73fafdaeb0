"""MaxPool2d, AvgPool2d and AdaptiveAvgPool2d over (N, C, H, W) input."""
import engine.functional as F

from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


class _PoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.stride = stride or kernel_size  # MegEngine: the window size by default
        self.padding = padding

    def _module_info_string(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_PoolNd):
    """Maximum over windows of each (H, W) plane (see :func:`~.max_pool2d`); padding
    is implicit -inf, never selected.

    Args:
        kernel_size: the window size, an int or (kh, kw).
        stride: the step between windows, an int or (sh, sw); None means kernel_size.
        padding: implicit padding on both sides, an int or (ph, pw), at most half the kernel.
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: (N, C, H, W); output: (N, C, OH, OW) with OH = (H + 2 ph - kh) // sh + 1 and
        OW alike.

    Examples:
        >>> m = M.MaxPool2d(2)
        >>> m
        MaxPool2d(kernel_size=2, stride=2, padding=0)
        >>> m(Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))).numpy()
        array([[[[ 5.,  7.],
                 [13., 15.]]]], dtype=float32)
    """

    def forward(self, inp):
        return F.max_pool2d(inp, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_PoolNd):
    """Mean over windows of each (H, W) plane (see :func:`~.avg_pool2d`).

    Args:
        kernel_size: the window size, an int or (kh, kw).
        stride: the step between windows, an int or (sh, sw); None means kernel_size.
        padding: implicit padding on both sides, an int or (ph, pw), at most half the kernel.
        mode: "average_count_exclude_padding" (the default) divides by the number of input
            positions in the window, "average" by the whole window including padding.
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: (N, C, H, W); output: (N, C, OH, OW) with OH = (H + 2 ph - kh) // sh + 1 and
        OW alike.

    Examples:
        >>> m = M.AvgPool2d(2, stride=1)
        >>> m(Tensor(np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3))).numpy()
        array([[[[2., 3.],
                 [5., 6.]]]], dtype=float32)
    """

    def __init__(self, kernel_size, stride=None, padding=0, mode="average_count_exclude_padding",
                 **kwargs):
        super().__init__(kernel_size, stride, padding, **kwargs)
        self.mode = mode

    def forward(self, inp):
        return F.avg_pool2d(inp, self.kernel_size, self.stride, self.padding, self.mode)

    def _module_info_string(self):
        return super()._module_info_string() + f", mode={self.mode}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (see :func:`~.adaptive_avg_pool2d`).

    Args:
        oshp: the output size, an int or (OH, OW).
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: (N, C, H, W) with H >= OH and W >= OW; output: (N, C, OH, OW).

    Examples:
        >>> m = M.AdaptiveAvgPool2d(1)
        >>> out = m(Tensor(np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)))
        >>> out.shape
        (1, 2, 1, 1)
        >>> out.numpy().flatten()
        array([1.5, 5.5], dtype=float32)
    """

    def __init__(self, oshp, **kwargs):
        super().__init__(**kwargs)
        self.oshp = oshp

    def forward(self, inp):
        return F.adaptive_avg_pool2d(inp, self.oshp)

    def _module_info_string(self):
        return f"oshp={self.oshp}"


__all__ += ["AdaptiveMaxPool2d"]


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed output size `oshp` (an int or (OH, OW)): stride IH // OH and
    window IH - (OH - 1) * stride per axis, as MegEngine.

    Examples:
        >>> import numpy as np
        >>> m = M.AdaptiveMaxPool2d((2, 2))
        >>> m(Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))).numpy()
        array([[[[ 5.,  7.],
                 [13., 15.]]]], dtype=float32)
    """

    def __init__(self, oshp, **kwargs):
        super().__init__(**kwargs)
        self.oshp = oshp

    def forward(self, inp):
        return F.adaptive_max_pool2d(inp, self.oshp)

    def _module_info_string(self):
        return f"oshp={self.oshp}"
