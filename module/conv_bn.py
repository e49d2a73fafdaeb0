"""The fused float convolution modules: ConvBn2d, ConvBnRelu2d, ConvTransposeBn2d,
ConvTransposeBnRelu2d (a convolution submodule and a `bn` BatchNorm2d, named as MegEngine names
them so state_dicts load), and ConvRelu2d, ConvTransposeRelu2d (a convolution with a ReLU, with
the convolution's own parameters). In float mode each computes exactly its parts in sequence;
MegEngine's quantize_qat would swap them for fused QAT versions (not in engine yet)."""
import engine.functional as F
from engine.functional.conv import _conv2d

from .batchnorm import BatchNorm2d
from .conv import Conv2d, ConvTranspose2d
from .module import Module

__all__ = ["ConvRelu2d", "ConvTransposeRelu2d", "ConvBn2d", "ConvBnRelu2d",
           "ConvTransposeBn2d", "ConvTransposeBnRelu2d"]


class ConvRelu2d(Conv2d):
    r"""A fused :class:`Conv2d` and :func:`~.relu`: relu(conv2d(inp)), with Conv2d's arguments
    and parameters (weight, bias).

    Returns:
        The (N, out_channels, H_out, W_out) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.ConvRelu2d(3, 4, 3, padding=1)
        >>> out = m(mge.tensor(np.random.randn(2, 3, 5, 5).astype("float32")))
        >>> print(out.shape, bool((out.numpy() >= 0).all()))
        (2, 4, 5, 5) True
    """

    def forward(self, inp):
        if self.padding_mode != "zeros":
            return F.relu(super().forward(inp))
        # one op: the conv's kernel applies the ReLU as it writes its output
        return _conv2d("ConvRelu2d", inp, self.weight, self.bias, self.stride, self.padding,
                       self.dilation, self.groups, "cross_correlation", self.compute_mode,
                       relu=True)


class ConvTransposeRelu2d(ConvTranspose2d):
    r"""A fused :class:`ConvTranspose2d` and :func:`~.relu`, with ConvTranspose2d's arguments
    and parameters (weight, bias).

    Returns:
        The (N, out_channels, H_out, W_out) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.ConvTransposeRelu2d(3, 4, 3, stride=2)
        >>> out = m(mge.tensor(np.random.randn(2, 3, 5, 5).astype("float32")))
        >>> print(out.shape, bool((out.numpy() >= 0).all()))
        (2, 4, 11, 11) True
    """

    def forward(self, inp):
        return F.relu(super().forward(inp))


class _ConvBnActivation2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, conv_mode="cross_correlation", compute_mode="default",
                 eps=1e-5, momentum=0.9, affine=True, track_running_stats=True,
                 padding_mode="zeros", **kwargs):
        super().__init__(**kwargs)
        self.conv = Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation,
                           groups, bias, conv_mode, compute_mode, padding_mode, **kwargs)
        self.bn = BatchNorm2d(out_channels, eps, momentum, affine, track_running_stats)


class ConvBn2d(_ConvBnActivation2d):
    r"""A fused :class:`Conv2d` (submodule ``conv``) and :class:`BatchNorm2d` (``bn``):
    bn(conv(inp)). In training the batch statistics of the convolution's output normalise it
    and update ``bn``'s running statistics, as the two modules in sequence do.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            conv_mode, compute_mode, padding_mode: as :class:`Conv2d`.
        eps, momentum, affine, track_running_stats: as :class:`BatchNorm2d`.

    Returns:
        The (N, out_channels, H_out, W_out) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.ConvBn2d(3, 4, 3)
        >>> sorted(m.state_dict())[-2:]
        ['conv.bias', 'conv.weight']
        >>> m(mge.tensor(np.random.randn(2, 3, 5, 5).astype("float32"))).shape
        (2, 4, 3, 3)
    """

    def forward(self, inp):
        return self.bn(self.conv(inp))


class ConvBnRelu2d(_ConvBnActivation2d):
    r"""A fused :class:`Conv2d` (``conv``), :class:`BatchNorm2d` (``bn``) and :func:`~.relu`:
    relu(bn(conv(inp))).

    Args: as :class:`ConvBn2d`.

    Returns:
        The (N, out_channels, H_out, W_out) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.ConvBnRelu2d(3, 4, 3, padding=1)
        >>> out = m(mge.tensor(np.random.randn(2, 3, 5, 5).astype("float32")))
        >>> print(out.shape, bool((out.numpy() >= 0).all()))
        (2, 4, 5, 5) True
    """

    def forward(self, inp):
        return F.relu(self.bn(self.conv(inp)))


class _ConvTransposeBnActivation2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, dilation=1, groups=1, bias=True,
                 conv_mode="cross_correlation", compute_mode="default", eps=1e-5, momentum=0.9,
                 affine=True, track_running_stats=True, **kwargs):
        super().__init__(**kwargs)
        self.conv_transpose2d = ConvTranspose2d(in_channels, out_channels, kernel_size, stride,
                                                padding, output_padding, dilation, groups, bias,
                                                conv_mode, compute_mode, **kwargs)
        self.bn = BatchNorm2d(out_channels, eps, momentum, affine, track_running_stats)


class ConvTransposeBn2d(_ConvTransposeBnActivation2d):
    r"""A fused :class:`ConvTranspose2d` (submodule ``conv_transpose2d``) and
    :class:`BatchNorm2d` (``bn``): bn(conv_transpose2d(inp)).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, output_padding, dilation,
            groups, bias, conv_mode, compute_mode: as :class:`ConvTranspose2d`.
        eps, momentum, affine, track_running_stats: as :class:`BatchNorm2d`.

    Returns:
        The (N, out_channels, H_out, W_out) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.ConvTransposeBn2d(3, 4, 3)
        >>> sorted(m.state_dict())[-2:]
        ['conv_transpose2d.bias', 'conv_transpose2d.weight']
        >>> m(mge.tensor(np.random.randn(2, 3, 5, 5).astype("float32"))).shape
        (2, 4, 7, 7)
    """

    def forward(self, inp):
        return self.bn(self.conv_transpose2d(inp))


class ConvTransposeBnRelu2d(_ConvTransposeBnActivation2d):
    r"""A fused :class:`ConvTranspose2d` (``conv_transpose2d``), :class:`BatchNorm2d` (``bn``)
    and :func:`~.relu`: relu(bn(conv_transpose2d(inp))).

    Args: as :class:`ConvTransposeBn2d`.

    Returns:
        The (N, out_channels, H_out, W_out) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.ConvTransposeBnRelu2d(3, 4, 3)
        >>> out = m(mge.tensor(np.random.randn(2, 3, 5, 5).astype("float32")))
        >>> print(out.shape, bool((out.numpy() >= 0).all()))
        (2, 4, 7, 7) True
    """

    def forward(self, inp):
        return F.relu(self.bn(self.conv_transpose2d(inp)))
