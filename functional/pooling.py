"""2-D pooling over NCHW tensors (MegEngine's names and arguments), on native kernels."""
import operator

from engine.ops import pooling as P

from ._utils import as_tensor, check_float, keeps_format

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool2d"]

_AVG_MODES = {"average_count_exclude_padding": False, "average": True}


def _nchw(inp, fn):
    inp = as_tensor(inp, fn)
    check_float(inp, fn)
    if inp.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D (N, C, H, W) input, got shape {inp.shape}")
    return inp


def _pair(value, name, fn, low):
    """An int or a pair of ints, each >= low, as an (h, w) tuple."""
    try:
        pair = (value, value) if not hasattr(value, "__len__") else tuple(value)
        if len(pair) != 2 or any(isinstance(v, bool) for v in pair):
            raise TypeError
        pair = tuple(operator.index(v) for v in pair)
    except TypeError:
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}") from None
    if min(pair) < low:
        raise ValueError(f"{fn}: {name} must be >= {low}, got {value!r}")
    return pair


def _geometry(inp, kernel_size, stride, padding, fn):
    kernel = _pair(kernel_size, "kernel_size", fn, 1)
    stride = kernel if stride is None else _pair(stride, "stride", fn, 1)
    padding = _pair(padding, "padding", fn, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        # As PyTorch: a wider padding could make a window of padding only.
        raise ValueError(f"{fn}: padding {padding} must be at most half of kernel_size {kernel}")
    h, w = inp.shape[2:]
    if h + 2 * padding[0] < kernel[0] or w + 2 * padding[1] < kernel[1]:
        raise ValueError(f"{fn}: kernel_size {kernel} is larger than the input {(h, w)} padded "
                         f"by {padding} (input shape {inp.shape})")
    return {"kernel": kernel, "stride": stride, "padding": padding}


@keeps_format
def max_pool2d(inp, kernel_size, stride=None, padding=0):
    """Max over each kernel_size window of each (H, W) plane; padding counts as -inf.

    Args:
        inp: (N, C, H, W) float tensor.
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw); defaults to kernel_size.
        padding: int or (ph, pw), at most half the kernel.

    Returns:
        (N, C, OH, OW) with OH = (H + 2 ph - kh) // sh + 1, and OW alike.

    Examples:
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.max_pool2d(x, 2).numpy()
        array([[[[ 5.,  7.],
                 [13., 15.]]]], dtype=float32)
        >>> F.max_pool2d(x, 3, stride=1, padding=1).shape
        (1, 1, 4, 4)
    """
    inp = _nchw(inp, "max_pool2d")
    y, _ = P.MaxPool2d.apply(inp, **_geometry(inp, kernel_size, stride, padding, "max_pool2d"))
    return y


@keeps_format
def avg_pool2d(inp, kernel_size, stride=None, padding=0, mode="average_count_exclude_padding"):
    """Mean over each kernel_size window of each (H, W) plane.

    Args:
        inp: (N, C, H, W) float tensor.
        kernel_size: int or (kh, kw).
        stride: int or (sh, sw); defaults to kernel_size.
        padding: int or (ph, pw) of zeros, at most half the kernel.
        mode: "average_count_exclude_padding" (default) divides by the number of input
            positions in the window, "average" by the whole window including padding
            (PyTorch's count_include_pad).

    Returns:
        (N, C, OH, OW) with OH = (H + 2 ph - kh) // sh + 1, and OW alike.

    Examples:
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.avg_pool2d(x, 2).numpy()
        array([[[[ 2.5,  4.5],
                 [10.5, 12.5]]]], dtype=float32)
        >>> F.avg_pool2d(x, 2, padding=1)[0, 0, 0].numpy()
        array([0. , 1.5, 3. ], dtype=float32)
        >>> F.avg_pool2d(x, 2, padding=1, mode="average")[0, 0, 0].numpy()
        array([0.  , 0.75, 0.75], dtype=float32)
    """
    inp = _nchw(inp, "avg_pool2d")
    if mode not in _AVG_MODES:
        raise ValueError(f"avg_pool2d: mode must be one of {sorted(_AVG_MODES)}, got {mode!r}")
    geometry = _geometry(inp, kernel_size, stride, padding, "avg_pool2d")
    return P.AvgPool2d.apply(inp, count_include_pad=_AVG_MODES[mode], **geometry)


def _adaptive_geometry(inp, oshp, fn):
    """MegEngine's adaptive pooling is a plain pooling: stride = in // out and
    kernel = in - (out - 1) * stride per axis (the same windows as PyTorch's whenever out divides
    in; otherwise windows of equal size, where PyTorch's vary)."""
    oshp = _pair(oshp, "oshp", fn, 1)
    h, w = inp.shape[2:]
    if oshp[0] > h or oshp[1] > w:
        raise ValueError(f"{fn}: output size {oshp} must not exceed the input size {(h, w)} "
                         f"(input shape {inp.shape})")
    stride = (h // oshp[0], w // oshp[1])
    kernel = (h - (oshp[0] - 1) * stride[0], w - (oshp[1] - 1) * stride[1])
    return {"kernel": kernel, "stride": stride, "padding": (0, 0)}


@keeps_format
def adaptive_max_pool2d(inp, oshp):
    """Max pooling of (N, C, H, W) down to a given output size.

    As MegEngine, it is a plain pooling with stride ``H // OH`` and kernel
    ``H - (OH - 1) * stride`` (and alike along W): the same windows as PyTorch's when OH
    divides H, windows of one size otherwise.

    Args:
        inp: (N, C, H, W) float tensor.
        oshp: the output size, an int or (OH, OW), at most (H, W).

    Returns:
        a tensor of shape (N, C, OH, OW).

    Examples:
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.adaptive_max_pool2d(x, 2).numpy()
        array([[[[ 5.,  7.],
                 [13., 15.]]]], dtype=float32)
        >>> F.adaptive_max_pool2d(x, (1, 3)).numpy()
        array([[[[13., 14., 15.]]]], dtype=float32)
    """
    inp = _nchw(inp, "adaptive_max_pool2d")
    y, _ = P.MaxPool2d.apply(inp, **_adaptive_geometry(inp, oshp, "adaptive_max_pool2d"))
    return y


@keeps_format
def adaptive_avg_pool2d(inp, oshp):
    """Average pooling of (N, C, H, W) down to a given output size.

    As MegEngine, it is a plain pooling with stride ``H // OH`` and kernel
    ``H - (OH - 1) * stride`` (and alike along W): the same windows as PyTorch's when OH
    divides H, windows of one size otherwise.

    Args:
        inp: (N, C, H, W) float tensor.
        oshp: the output size, an int or (OH, OW), at most (H, W).

    Returns:
        a tensor of shape (N, C, OH, OW).

    Examples:
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.adaptive_avg_pool2d(x, 2).numpy()
        array([[[[ 2.5,  4.5],
                 [10.5, 12.5]]]], dtype=float32)
        >>> F.adaptive_avg_pool2d(x, 1).numpy()
        array([[[[7.5]]]], dtype=float32)
    """
    inp = _nchw(inp, "adaptive_avg_pool2d")
    return P.AvgPool2d.apply(inp, count_include_pad=False,
                             **_adaptive_geometry(inp, oshp, "adaptive_avg_pool2d"))
