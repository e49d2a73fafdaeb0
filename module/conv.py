"""Conv1d, Conv2d, Conv3d, ConvTranspose2d and ConvTranspose3d (channels-first).

Weights: Conv (O, I, *k), grouped (G, O/G, I/G, *k); ConvTranspose (I, O, *k), grouped
(G, I/G, O/G, *k). Bias (1, O, 1, ...) with one 1 per spatial dim. Initialisation (MegEngine):
weight ~ N(0, 1 / fan_in) with fan_in = prod(k) * in_channels (out_channels for
ConvTranspose2d), bias = 0.
"""
import math

import numpy as np

import engine.functional as F
from engine.tensor import Parameter

from . import init
from ._utils import positive_int
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate")


def ntuple(value, n, name, layer, nonzero=False):
    """The n ints of a window argument given as an int or a sequence of n ints, checked.

    Args:
        value: an int (repeated n times) or a sequence of n ints.
        n: the number of spatial dims.
        name: the argument's name, for the error message.
        layer: the layer's name, for the error message.
        nonzero: require positive ints (else non-negative).

    Returns:
        a tuple of n Python ints; a TypeError or ValueError naming layer and argument for
        anything else.

    Examples:
        >>> from engine.module.conv import ntuple
        >>> ntuple(3, 2, "stride", "Conv2d"), ntuple((1, 2), 2, "padding", "Conv2d")
        ((3, 3), (1, 2))
        >>> ntuple(0, 2, "stride", "Conv2d", nonzero=True)
        Traceback (most recent call last):
            ...
        ValueError: Conv2d: stride must be positive, got 0
    """
    vals = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(vals) != n or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in vals):
        raise TypeError(f"{layer}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < (1 if nonzero else 0) for v in vals):
        raise ValueError(f"{layer}: {name} must be {'positive' if nonzero else 'non-negative'}, "
                         f"got {value!r}")
    return tuple(int(v) for v in vals)


class _ConvNd(Module):
    """Shared by the conv layers: checked window arguments, weight/bias, MegEngine's init.
    Subclasses give `_dims` (spatial dims) and the weight shape."""

    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding,
                 dilation, groups, bias, conv_mode, compute_mode, **kwargs):
        super().__init__(**kwargs)
        layer, n = type(self).__name__, self._dims
        positive_int(in_channels, "in_channels", layer)
        positive_int(out_channels, "out_channels", layer)
        positive_int(groups, "groups", layer)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if conv_mode.lower() != "cross_correlation":
            raise ValueError(f"{layer}: conv_mode must be 'cross_correlation', got {conv_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", layer, nonzero=True)
        self.stride = ntuple(stride, n, "stride", layer, nonzero=True)
        self.padding = ntuple(padding, n, "padding", layer)
        self.output_padding = ntuple(output_padding, n, "output_padding", layer)
        self.dilation = ntuple(dilation, n, "dilation", layer, nonzero=True)
        self.groups = groups
        self.conv_mode = conv_mode.lower()
        self.compute_mode = compute_mode.lower()
        self.weight = Parameter(np.zeros(self._infer_weight_shape(), np.float32))
        self.bias = Parameter(np.zeros(self._infer_bias_shape(), np.float32)) if bias else None
        self.reset_parameters()

    def _get_fanin(self):
        return math.prod(self.kernel_size) * self.in_channels

    def _infer_weight_shape(self):
        """(O, I, *k), grouped (G, O/G, I/G, *k)."""
        g, i, o = self.groups, self.in_channels, self.out_channels
        return (o, i) + self.kernel_size if g == 1 else (g, o // g, i // g) + self.kernel_size

    def _infer_bias_shape(self):
        return (1, self.out_channels) + (1,) * self._dims

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, np.sqrt(1 / self._get_fanin()))
        if self.bias is not None:
            init.zeros_(self.bias)

    def _module_info_string(self):
        n = self._dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1,) * n:
            s += f", stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


def _check_padding_mode(layer, padding_mode):
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"{layer}: padding_mode must be one of {_PADDING_MODES}, got "
                         f"{padding_mode!r}")
    return padding_mode


class Conv1d(_ConvNd):
    """1-D cross-correlation over (N, C_in, L) -> (N, C_out, L_out).

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: size of the kernel (int).
        stride: stride. Default: 1
        padding: size of the padding added on both sides. Default: 0
        dilation: dilation. Default: 1
        groups: number of channel groups (in and out channels divisible by it). Default: 1
        bias: whether to add a learnt bias. Default: True
        conv_mode: only "cross_correlation".
        compute_mode: "default" or "float32" (both accumulate in float32 here).
        padding_mode: "zeros", "reflect" or "replicate" (the latter two pad with F.nn.pad).

    Returns:
        The module; weight (O, I, k), grouped (G, O/G, I/G, k); bias (1, O, 1).

    Examples:
        >>> import numpy as np
        >>> m = M.Conv1d(in_channels=3, out_channels=1, kernel_size=3)
        >>> inp = mge.tensor(np.arange(0, 24).astype("float32").reshape(2, 3, 4))
        >>> m(inp).numpy().shape
        (2, 1, 2)
    """

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, conv_mode="cross_correlation", compute_mode="default",
                 padding_mode="zeros", **kwargs):
        self.padding_mode = _check_padding_mode("Conv1d", padding_mode)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 0, dilation,
                         groups, bias, conv_mode, compute_mode, **kwargs)
        # MegEngine keeps the 1-D window arguments as plain ints
        (self.kernel_size,), (self.stride,) = self.kernel_size, self.stride
        (self.padding,), (self.dilation,) = self.padding, self.dilation
        self.output_padding = 0

    def _module_info_string(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s + (", bias=False" if self.bias is None else "")

    def calc_conv(self, inp, weight, bias):
        padding = self.padding
        if self.padding_mode != "zeros" and padding:
            inp = F.nn.pad(inp, ((0, 0), (0, 0), (padding, padding)), mode=self.padding_mode)
            padding = 0
        return F.conv1d(inp, weight, bias, self.stride, padding, self.dilation, self.groups,
                        self.conv_mode, self.compute_mode)

    def forward(self, inp):
        return self.calc_conv(inp, self.weight, self.bias)


class Conv2d(_ConvNd):
    """Applies a 2-D convolution (cross-correlation) over an (N, C_in, H, W) input (see
    :func:`~.conv2d`); the output is (N, C_out, OH, OW) with
    ``OH = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1`` (likewise OW).

    Initialisation (MegEngine): weight ~ N(0, 1 / fan_in), fan_in = kh * kw * C_in (whatever
    the groups); bias = 0.

    Args:
        in_channels: number of input channels C_in.
        out_channels: number of output channels C_out.
        kernel_size: the kernel size, an int or an (h, w) pair.
        stride: the step of the sliding window, an int or an (h, w) pair. Default: 1
        padding: size of the padding added on both sides of H and W, an int or an (h, w)
            pair. Default: 0
        dilation: the spacing between kernel elements, an int or an (h, w) pair. Default: 1
        groups: number of channel groups; in_channels and out_channels must be divisible by
            it. Default: 1
        bias: whether to add a learnt bias. Default: True
        conv_mode: only ``"cross_correlation"``.
        compute_mode: ``"default"`` or ``"float32"`` (both accumulate in float32 here).
        padding_mode: ``"zeros"`` (the default), ``"reflect"`` or ``"replicate"`` (the latter
            two pad with :func:`~.nn.pad`).

    Returns:
        The module; weight (C_out, C_in, kh, kw), grouped (G, C_out/G, C_in/G, kh, kw); bias
        (1, C_out, 1, 1).

    Examples:
        >>> m = M.Conv2d(in_channels=3, out_channels=1, kernel_size=3)
        >>> inp = mge.tensor(np.arange(0, 96).astype("float32").reshape(2, 3, 4, 4))
        >>> m(inp).numpy().shape
        (2, 1, 2, 2)
        >>> m.weight.shape, m.bias.shape
        ((1, 3, 3, 3), (1, 1, 1, 1))
        >>> M.Conv2d(3, 16, 3, stride=2, padding=1)(Tensor(np.zeros((2, 3, 8, 8), "float32"))).shape
        (2, 16, 4, 4)
        >>> M.Conv2d(4, 8, 3, groups=2).weight.shape
        (2, 4, 2, 3, 3)
        >>> m = M.Conv2d(1, 1, 2, padding=1, padding_mode="reflect", bias=False)
        >>> M.init.ones_(m.weight)
        >>> m(Tensor(np.arange(9, dtype="float32").reshape(1, 1, 3, 3))).numpy()
        array([[[[ 8.,  8., 12., 12.],
                 [ 8.,  8., 12., 12.],
                 [20., 20., 24., 24.],
                 [20., 20., 24., 24.]]]], dtype=float32)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, conv_mode="cross_correlation", compute_mode="default",
                 padding_mode="zeros", **kwargs):
        self.padding_mode = _check_padding_mode("Conv2d", padding_mode)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 0, dilation,
                         groups, bias, conv_mode, compute_mode, **kwargs)

    def calc_conv(self, inp, weight, bias):
        padding = self.padding
        if self.padding_mode != "zeros" and padding != (0, 0):
            ph, pw = padding
            inp = F.nn.pad(inp, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode=self.padding_mode)
            padding = (0, 0)
        return F.conv2d(inp, weight, bias, stride=self.stride, padding=padding,
                        dilation=self.dilation, groups=self.groups,
                        compute_mode=self.compute_mode)

    def forward(self, inp):
        return self.calc_conv(inp, self.weight, self.bias)


class Conv3d(_ConvNd):
    """3-D cross-correlation over (N, C_in, T, H, W) -> (N, C_out, T_out, H_out, W_out).

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: int or (t, h, w) triple.
        stride: int or triple. Default: 1
        padding: zero padding on both sides, int or triple. Default: 0
        dilation: int or triple. Default: 1
        groups: number of channel groups (in and out channels divisible by it). Default: 1
        bias: whether to add a learnt bias. Default: True
        conv_mode: only "cross_correlation".

    Returns:
        The module; weight (O, I, kt, kh, kw), grouped (G, O/G, I/G, kt, kh, kw); bias
        (1, O, 1, 1, 1).

    Examples:
        >>> import numpy as np
        >>> m = M.Conv3d(in_channels=3, out_channels=1, kernel_size=3)
        >>> inp = mge.tensor(np.arange(0, 384).astype("float32").reshape(2, 3, 4, 4, 4))
        >>> m(inp).numpy().shape
        (2, 1, 2, 2, 2)
    """

    _dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, conv_mode="cross_correlation"):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 0, dilation,
                         groups, bias, conv_mode, "default")

    def calc_conv(self, inp, weight, bias):
        return F.conv3d(inp, weight, bias, self.stride, self.padding, self.dilation, self.groups,
                        self.conv_mode)

    def forward(self, inp):
        return self.calc_conv(inp, self.weight, self.bias)


class ConvTranspose2d(_ConvNd):
    """Applies a 2-D transposed convolution over an (N, C_in, H, W) input (see
    :func:`~.conv_transpose2d`): the gradient of a Conv2d with respect to its input, which
    upsamples; the output is (N, C_out, OH, OW) with
    ``OH = (H - 1)*sh - 2*ph + dh*(kh - 1) + output_padding_h + 1`` (likewise OW).

    Initialisation (MegEngine): weight ~ N(0, 1 / fan_in), fan_in = kh * kw * C_out; bias = 0.

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: int or (h, w).
        stride: int or (h, w). Default: 1
        padding: int or (h, w). Default: 0
        output_padding: size added to one side of the output, smaller than stride. Default: 0
        dilation: int or (h, w). Default: 1
        groups: number of channel groups. Default: 1
        bias: whether to add a learnt bias. Default: True
        conv_mode: only "cross_correlation".
        compute_mode: "default" or "float32" (both accumulate in float32 here).

    Returns:
        The module; weight (I, O, kh, kw), grouped (G, I/G, O/G, kh, kw); bias (1, O, 1, 1).
        fan_in = kh*kw*out_channels, as in MegEngine.

    Examples:
        >>> m = M.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)
        >>> m(mge.tensor(np.zeros((1, 3, 4, 4), "float32"))).shape
        (1, 8, 8, 8)
        >>> m.weight.shape, m.bias.shape
        ((3, 8, 3, 3), (1, 8, 1, 1))
        >>> M.ConvTranspose2d(4, 8, 3, groups=2).weight.shape
        (2, 2, 4, 3, 3)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, dilation=1, groups=1, bias=True,
                 conv_mode="cross_correlation", compute_mode="default", **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding,
                         dilation, groups, bias, conv_mode, compute_mode, **kwargs)

    def _get_fanin(self):
        return self.kernel_size[0] * self.kernel_size[1] * self.out_channels

    def _infer_weight_shape(self):
        kh, kw = self.kernel_size
        g, i, o = self.groups, self.in_channels, self.out_channels
        return (i, o, kh, kw) if g == 1 else (g, i // g, o // g, kh, kw)

    def forward(self, inp):
        return F.conv_transpose2d(inp, self.weight, self.bias, stride=self.stride,
                                  padding=self.padding, output_padding=self.output_padding,
                                  dilation=self.dilation, groups=self.groups,
                                  compute_mode=self.compute_mode)


class ConvTranspose3d(_ConvNd):
    """3-D transposed convolution (the gradient of Conv3d with respect to its input).

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: int or (t, h, w) triple.
        stride: int or triple. Default: 1
        padding: int or triple. Default: 0
        output_padding: size added to one side of the output, smaller than stride. Default: 0
        dilation: int or triple. Default: 1
        groups: number of channel groups (MegEngine documents groups=1; grouped weights work
            here). Default: 1
        bias: whether to add a learnt bias. Default: True

    Returns:
        The module; weight (I, O, kt, kh, kw), grouped (G, I/G, O/G, kt, kh, kw); bias
        (1, O, 1, 1, 1). fan_in = kt*kh*kw*in_channels, as in MegEngine.

    Examples:
        >>> import numpy as np
        >>> m = M.ConvTranspose3d(3, 8, 3, stride=2, padding=1)
        >>> m(mge.tensor(np.zeros((1, 3, 4, 4, 4), "float32"))).shape
        (1, 8, 7, 7, 7)
    """

    _dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, dilation=1, groups=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, output_padding,
                         dilation, groups, bias, "cross_correlation", "default")

    def _infer_weight_shape(self):
        g, i, o = self.groups, self.in_channels, self.out_channels
        return (i, o) + self.kernel_size if g == 1 else (g, i // g, o // g) + self.kernel_size

    def forward(self, inp):
        return F.conv_transpose3d(inp, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.dilation, self.groups)
