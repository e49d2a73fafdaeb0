"""SlidingWindow and SlidingWindowTranspose: the layers of F.sliding_window and
F.sliding_window_transpose (no parameters)."""
import engine.functional as F

from .module import Module

__all__ = ["SlidingWindow", "SlidingWindowTranspose"]


class SlidingWindow(Module):
    """Extracts the sliding local blocks of an NCHW input: (N, C, H, W) -> (N, C, OH, OW, wh, ww).

    Args:
        kernel_size: size of the window, int or (h, w).
        padding: implicit zero padding on both sides. Default: 0
        stride: stride of the window. Default: 1
        dilation: dilation of the window. Default: 1

    Returns:
        The module.

    Examples:
        >>> import numpy as np
        >>> m = M.SlidingWindow(kernel_size=3, padding=1, stride=2)
        >>> m(mge.tensor(np.zeros((1, 2, 4, 4), "float32"))).shape
        (1, 2, 2, 2, 3, 3)
    """

    def __init__(self, kernel_size, padding=0, stride=1, dilation=1, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.padding = padding
        self.stride = stride
        self.dilation = dilation

    def forward(self, inp):
        return F.sliding_window(inp, self.kernel_size, self.padding, self.stride, self.dilation)


class SlidingWindowTranspose(Module):
    """Sums sliding local blocks back into an image: (N, C, OH, OW, wh, ww) -> (N, C, H, W).

    Args:
        output_size: (H, W) of the result, int or pair.
        kernel_size: size of the window, int or (h, w).
        padding: implicit zero padding on both sides. Default: 0
        stride: stride of the window. Default: 1
        dilation: dilation of the window. Default: 1

    Returns:
        The module.

    Examples:
        >>> import numpy as np
        >>> m = M.SlidingWindowTranspose(output_size=4, kernel_size=3, padding=1, stride=2)
        >>> m(mge.tensor(np.zeros((1, 2, 2, 2, 3, 3), "float32"))).shape
        (1, 2, 4, 4)
    """

    def __init__(self, output_size, kernel_size, padding=0, stride=1, dilation=1, **kwargs):
        super().__init__(**kwargs)
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.padding = padding
        self.stride = stride
        self.dilation = dilation

    def forward(self, inp):
        return F.sliding_window_transpose(inp, self.output_size, self.kernel_size, self.padding,
                                          self.stride, self.dilation)
