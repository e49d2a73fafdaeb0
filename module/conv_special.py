"""LocalConv2d, DeformableConv2d and RegionRestrictedConv: the layers of F.local_conv2d,
F.deformable_conv2d and F.region_restricted_conv, with MegEngine's constructor arguments,
parameter layouts and initialisation (weight ~ N(0, 1 / (kh*kw*in_channels)), bias = 0)."""
import engine.functional as F

from ._utils import positive_int
from .conv import Conv2d, _check_padding_mode, _ConvNd

__all__ = ["LocalConv2d", "DeformableConv2d", "RegionRestrictedConv"]


class LocalConv2d(Conv2d):
    """Locally connected 2-D layer: a convolution whose kernel differs at every output position
    (untied weights). No bias, as in MegEngine.

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        input_height: height of the input images (fixes the number of output positions).
        input_width: width of the input images.
        kernel_size: int or (h, w).
        stride: int or (h, w). Default: 1
        padding: zero padding on both sides. Default: 0
        dilation: int or (h, w). Default: 1
        groups: number of channel groups. Default: 1
        conv_mode: only "cross_correlation".

    Returns:
        The module; weight (G, OH, OW, I/G, kh, kw, O/G).

    Examples:
        >>> import numpy as np
        >>> m = M.LocalConv2d(2, 4, input_height=5, input_width=5, kernel_size=3)
        >>> m.weight.shape
        (1, 3, 3, 2, 3, 3, 4)
        >>> m(mge.tensor(np.zeros((1, 2, 5, 5), "float32"))).shape
        (1, 4, 3, 3)
    """

    def __init__(self, in_channels, out_channels, input_height, input_width, kernel_size,
                 stride=1, padding=0, dilation=1, groups=1, conv_mode="cross_correlation",
                 **kwargs):
        self.input_height = positive_int(input_height, "input_height", "LocalConv2d")
        self.input_width = positive_int(input_width, "input_width", "LocalConv2d")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias=False, conv_mode=conv_mode, **kwargs)

    def _infer_weight_shape(self):
        out_hw = [(i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
                  zip((self.input_height, self.input_width), self.kernel_size, self.stride,
                      self.padding, self.dilation)]
        if min(out_hw) <= 0:
            raise ValueError(f"LocalConv2d: input {self.input_height}x{self.input_width} is too "
                             f"small for kernel {self.kernel_size} (padding {self.padding}, "
                             f"dilation {self.dilation})")
        g = self.groups
        return (g, *out_hw, self.in_channels // g, *self.kernel_size, self.out_channels // g)

    def forward(self, inp):
        return F.local_conv2d(inp, self.weight, None, self.stride, self.padding, self.dilation,
                              self.conv_mode)


class DeformableConv2d(_ConvNd):
    """Modulated deformable 2-D convolution (DCNv2): forward(inp, offset, mask).

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: int or (h, w).
        stride: int or (h, w). Default: 1
        padding: zero padding on both sides. Default: 0
        dilation: int or (h, w). Default: 1
        groups: number of channel groups. Default: 1
        bias: whether to add a learnt bias. Default: True
        conv_mode: only "cross_correlation".
        compute_mode: "default" or "float32" (both accumulate in float32 here).

    Returns:
        The module; weight (O, I, kh, kw), grouped (G, O/G, I/G, kh, kw); bias (1, O, 1, 1).
        offset (N, 2*DG*kh*kw, OH, OW) and mask (N, DG*kh*kw, OH, OW) are inputs.

    Examples:
        >>> import numpy as np
        >>> m = M.DeformableConv2d(2, 4, 3, padding=1)
        >>> x = mge.tensor(np.zeros((1, 2, 5, 5), "float32"))
        >>> offset = mge.tensor(np.zeros((1, 18, 5, 5), "float32"))
        >>> mask = mge.tensor(np.ones((1, 9, 5, 5), "float32"))
        >>> m(x, offset, mask).shape
        (1, 4, 5, 5)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, conv_mode="cross_correlation", compute_mode="default",
                 **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 0, dilation,
                         groups, bias, conv_mode, compute_mode, **kwargs)

    def calc_conv(self, inp, weight, offset, mask, bias):
        return F.deformable_conv2d(inp, weight, offset, mask, bias, self.stride, self.padding,
                                   self.dilation, self.groups, self.conv_mode, self.compute_mode)

    def forward(self, inp, offset, mask):
        return self.calc_conv(inp, self.weight, offset, mask, self.bias)


class RegionRestrictedConv(_ConvNd):
    """Region-restricted 2-D convolution: forward(inp, rin, rout); output (i, j) only sums the
    input pixels whose region id rin equals its own rout[i, j].

    Args:
        in_channels: number of input channels.
        out_channels: number of output channels.
        kernel_size: int or (h, w).
        groups: number of channel groups. Default: 1
        bias: whether to add a learnt bias. Default: True
        stride: int or (h, w). Default: 1
        padding: zero padding on both sides. Default: 0
        dilation: int or (h, w). Default: 1
        conv_mode: only "cross_correlation".
        compute_mode: "default" or "float32" (both accumulate in float32 here).
        padding_mode: accepted and kept for MegEngine compatibility; as in MegEngine the
            convolution always pads with zeros.

    Returns:
        The module; weight (G, O/G, I/G, kh, kw) (always grouped); bias (1, O, 1, 1).

    Examples:
        >>> import numpy as np
        >>> m = M.RegionRestrictedConv(in_channels=2, out_channels=2, kernel_size=2, groups=2)
        >>> inp = mge.tensor(np.random.randn(1, 2, 2, 2).astype(np.float32))
        >>> rin = mge.tensor(np.zeros((1, 2, 2), np.int32))
        >>> rout = mge.tensor(np.zeros((1, 1, 1), np.int32))
        >>> m(inp, rin, rout).numpy().shape
        (1, 2, 1, 1)
    """

    def __init__(self, in_channels, out_channels, kernel_size, groups=1, bias=True, stride=1,
                 padding=0, dilation=1, conv_mode="cross_correlation", compute_mode="default",
                 padding_mode="zeros", **kwargs):
        self.padding_mode = _check_padding_mode("RegionRestrictedConv", padding_mode)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 0, dilation,
                         groups, bias, conv_mode, compute_mode, **kwargs)

    def _infer_weight_shape(self):
        g, i, o = self.groups, self.in_channels, self.out_channels
        return (g, o // g, i // g) + self.kernel_size

    def calc_conv(self, inp, weight, rin, rout, bias):
        return F.region_restricted_conv(inp, weight, rin, rout, bias, self.stride, self.padding,
                                        self.dilation, self.groups, self.conv_mode,
                                        self.compute_mode)

    def forward(self, inp, rin, rout):
        return self.calc_conv(inp, self.weight, rin, rout, self.bias)
