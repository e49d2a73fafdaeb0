"""F.sliding_window and F.sliding_window_transpose (MegEngine's Images2Neibs and
SlidingWindowTranspose; also under F.nn), on the im2col kernels (engine/ops/conv_window.py)."""
from engine.ops import conv_window as K

from ._utils import as_tensor, check_float
from .conv import _pair

__all__ = ["sliding_window", "sliding_window_transpose"]


def _window(fn, kernel_size, padding, stride, dilation):
    return dict(kernel=_pair(kernel_size, "kernel_size", fn, 1),
                stride=_pair(stride, "stride", fn, 1), padding=_pair(padding, "padding", fn, 0),
                dilation=_pair(dilation, "dilation", fn, 1))


def _out_hw(in_hw, win):
    return tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
                 zip(in_hw, win["kernel"], win["stride"], win["padding"], win["dilation"]))


def sliding_window(inp, kernel_size, padding=0, stride=1, dilation=1):
    """Extracts the sliding local blocks of a batched NCHW input.

    Args:
        inp: (N, C, H, W).
        kernel_size: size of the window, int or (h, w).
        padding: implicit zero padding on both sides. Default: 0
        stride: stride of the window. Default: 1
        dilation: dilation of the window. Default: 1

    Returns:
        (N, C, OH, OW, window_h, window_w): out[n, c, i, j] is the window of output (i, j),
        with OH = (H + 2*ph - dh*(window_h - 1) - 1) // sh + 1 (likewise OW).

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.arange(16, dtype="float32").reshape(1, 1, 4, 4))
        >>> y = F.sliding_window(x, kernel_size=2, stride=2)
        >>> y.shape
        (1, 1, 2, 2, 2, 2)
        >>> y[0, 0, 1, 0].numpy()
        array([[ 8.,  9.],
               [12., 13.]], dtype=float32)
    """
    fn = "sliding_window"
    inp = as_tensor(inp, fn)
    check_float(inp, fn)
    if inp.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D (N, C, H, W) input, got shape {inp.shape}")
    win = _window(fn, kernel_size, padding, stride, dilation)
    out = _out_hw(inp.shape[2:], win)
    if min(out) <= 0:
        raise ValueError(f"{fn}: output size {out} is not positive: input "
                         f"{tuple(inp.shape[2:])}, window {win['kernel']}, padding "
                         f"{win['padding']}, dilation {win['dilation']}")
    return K.SlidingWindow.apply(inp, **win)


def sliding_window_transpose(inp, output_size, kernel_size, padding=0, stride=1, dilation=1):
    """Sums sliding local blocks back into an image: the adjoint of sliding_window.

    Args:
        inp: (N, C, OH, OW, window_h, window_w), OH and OW the numbers of windows.
        output_size: (H, W) of the result, int or pair.
        kernel_size: size of the window.
        padding: implicit zero padding on both sides. Default: 0
        stride: stride of the window. Default: 1
        dilation: dilation of the window. Default: 1

    Returns:
        (N, C, H, W): each pixel is the sum of the window entries that cover it.

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.ones((1, 1, 3, 3, 2, 2), "float32"))
        >>> F.sliding_window_transpose(x, output_size=4, kernel_size=2).numpy()[0, 0]
        array([[1., 2., 2., 1.],
               [2., 4., 4., 2.],
               [2., 4., 4., 2.],
               [1., 2., 2., 1.]], dtype=float32)
    """
    fn = "sliding_window_transpose"
    inp = as_tensor(inp, fn)
    check_float(inp, fn)
    win = _window(fn, kernel_size, padding, stride, dilation)
    out_hw = _pair(output_size, "output_size", fn, 1)
    want = _out_hw(out_hw, win)
    if inp.ndim != 6 or tuple(inp.shape[2:4]) != want or tuple(inp.shape[4:]) != win["kernel"]:
        raise ValueError(f"{fn}: input of shape {inp.shape} does not match output_size {out_hw} "
                         f"and the window: expected (N, C, {want[0]}, {want[1]}, "
                         f"{win['kernel'][0]}, {win['kernel'][1]})")
    return K.SlidingWindowTranspose.apply(inp, out_hw=out_hw, **win)
