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
    """2-D cross-correlation over (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    padding_mode "reflect" / "replicate" pads the input with F.nn.pad first.
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
    """2-D transposed convolution (the gradient of Conv2d with respect to its input)."""

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
