"""Conv2d and ConvTranspose2d (NCHW).

Weights: Conv2d (O, I, kh, kw), grouped (G, O/G, I/G, kh, kw); ConvTranspose2d (I, O, kh, kw),
grouped (G, I/G, O/G, kh, kw). Bias (1, O, 1, 1). Initialisation (MegEngine): weight ~
N(0, 1 / fan_in) with fan_in = kh * kw * in_channels (out_channels for the transposed conv),
bias = 0.
"""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter

from . import init
from ._utils import pair, positive_int
from .module import Module

__all__ = ["Conv2d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate")


class _ConvNd(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, output_padding,
                 dilation, groups, bias, conv_mode, compute_mode, **kwargs):
        super().__init__(**kwargs)
        layer = type(self).__name__
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
        self.kernel_size = pair(kernel_size, "kernel_size", layer, nonzero=True)
        self.stride = pair(stride, "stride", layer, nonzero=True)
        self.padding = pair(padding, "padding", layer)
        self.output_padding = pair(output_padding, "output_padding", layer)
        self.dilation = pair(dilation, "dilation", layer, nonzero=True)
        self.groups = groups
        self.conv_mode = conv_mode.lower()
        self.compute_mode = compute_mode.lower()
        self.weight = Parameter(np.zeros(self._infer_weight_shape(), np.float32))
        self.bias = Parameter(np.zeros((1, out_channels, 1, 1), np.float32)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, np.sqrt(1 / self._get_fanin()))
        if self.bias is not None:
            init.zeros_(self.bias)

    def _module_info_string(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != (1, 1):
            s += f", stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """Applies a 2-D convolution (cross-correlation) over (N, C_in, H, W) input (see
    :func:`~.conv2d`).

    Initialisation (as MegEngine): weight ~ N(0, 1 / fan_in) with fan_in = kh * kw * C_in,
    bias = 0.

    Args:
        in_channels: the number of input channels C_in.
        out_channels: the number of output channels C_out.
        kernel_size: the window size, an int or (kh, kw).
        stride: the step between windows, an int or (sh, sw).
        padding: zero padding on both sides of H and W, an int or (ph, pw).
        dilation: the spacing between kernel elements, an int or (dh, dw).
        groups: split the channels into this many groups, each convolved separately; it must
            divide in_channels and out_channels.
        bias: whether to add a learned bias of shape (1, C_out, 1, 1).
        conv_mode: must be "cross_correlation" (what deep learning calls convolution).
        compute_mode: MegEngine's precision knob ("default" or "float32"), passed on to the
            functional; engine computes float32 input in float32 either way.
        padding_mode: "zeros", "reflect" or "replicate"; the last two pad the input with
            :func:`~.pad` first.
        **kwargs: ``name``, passed on to :class:`Module`.

    Attributes:
        weight: Parameter of shape (C_out, C_in, kh, kw), or (groups, C_out / groups,
            C_in / groups, kh, kw) when grouped.
        bias: Parameter of shape (1, C_out, 1, 1), or None.

    Shape:
        input: (N, C_in, H, W); output: (N, C_out, OH, OW) with
        OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1, and OW alike.

    Examples:
        >>> m = M.Conv2d(3, 8, 3, stride=2, padding=1)
        >>> m
        Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
        >>> m.weight.shape, m.bias.shape
        ((8, 3, 3, 3), (1, 8, 1, 1))
        >>> m(F.ones((2, 3, 8, 8))).shape
        (2, 8, 4, 4)
        >>> M.Conv2d(4, 4, 3, groups=2, bias=False).weight.shape
        (2, 2, 2, 3, 3)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, conv_mode="cross_correlation", compute_mode="default",
                 padding_mode="zeros", **kwargs):
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 0, dilation,
                         groups, bias, conv_mode, compute_mode, **kwargs)

    def _get_fanin(self):
        return self.kernel_size[0] * self.kernel_size[1] * self.in_channels

    def _infer_weight_shape(self):
        kh, kw = self.kernel_size
        g, i, o = self.groups, self.in_channels, self.out_channels
        return (o, i, kh, kw) if g == 1 else (g, o // g, i // g, kh, kw)

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


class ConvTranspose2d(_ConvNd):
    """Applies a 2-D transposed convolution (the gradient of :class:`Conv2d` with
    respect to its input) over (N, C_in, H, W) input (see :func:`~.conv_transpose2d`).

    Initialisation (as MegEngine): weight ~ N(0, 1 / fan_in) with fan_in = kh * kw * C_out,
    bias = 0.

    Args:
        in_channels: the number of input channels C_in.
        out_channels: the number of output channels C_out.
        kernel_size: the window size, an int or (kh, kw).
        stride: the step between windows, an int or (sh, sw).
        padding: zero padding on both sides of H and W, an int or (ph, pw).
        output_padding: extra rows and columns added on one side of the output, an int or
            (oph, opw), smaller than the stride or the dilation.
        dilation: the spacing between kernel elements, an int or (dh, dw).
        groups: split the channels into this many groups, each convolved separately; it must
            divide in_channels and out_channels.
        bias: whether to add a learned bias of shape (1, C_out, 1, 1).
        conv_mode: must be "cross_correlation" (what deep learning calls convolution).
        compute_mode: MegEngine's precision knob ("default" or "float32"), passed on to the
            functional; engine computes float32 input in float32 either way.
        **kwargs: ``name``, passed on to :class:`Module`.

    Attributes:
        weight: Parameter of shape (C_in, C_out, kh, kw), or (groups, C_in / groups,
            C_out / groups, kh, kw) when grouped.
        bias: Parameter of shape (1, C_out, 1, 1), or None.

    Shape:
        input: (N, C_in, H, W); output: (N, C_out, OH, OW) with
        OH = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1, and OW alike.

    Examples:
        >>> m = M.ConvTranspose2d(8, 3, 4, stride=2, padding=1)
        >>> m.weight.shape
        (8, 3, 4, 4)
        >>> m(F.ones((2, 8, 5, 5))).shape
        (2, 3, 10, 10)
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
