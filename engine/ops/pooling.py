"""2-D pooling (NCHW) on our native kernels (csrc/kernels/pooling.h, csrc/cpu/pooling.cpp).

Each backward is a linear map written as an op whose own backward is the adjoint forward map:
AvgPool2d <-> AvgPool2dGrad, and for max pooling MaxPool2dGrad (scatter dy to the argmax) <->
MaxPool2dGather (read at the argmax). So higher-order gradients compose. MaxPool2d returns the
argmax (int32 flat index into each input plane) as a second, non-differentiable output.

Geometry attributes are (h, w) int pairs: kernel, stride, padding; in_hw is the input's (H, W).
"""

from ._kernels import cpu_kernels, f32, to_dtype
from .core import Op


class MaxPool2d(Op):
    n_outputs = 2
    save_outputs = True  # backward reads the argmax

    def forward(xp, x, kernel, stride, padding):
        y, argmax = cpu_kernels(xp, "MaxPool2d").max_pool2d_forward(f32(x), kernel, stride, padding)
        return to_dtype(y, x.dtype), argmax

    def backward(ctx, dy, _dargmax):
        x = ctx.inputs[0]
        return MaxPool2dGrad.apply(dy, ctx.outputs[1], in_hw=x.shape[2:], **ctx.attrs)


class MaxPool2dGrad(Op):
    """dx (N, C, *in_hw): each dy (N, C, OH, OW) added at its window's argmax."""

    def forward(xp, dy, argmax, in_hw, kernel, stride, padding):
        dx = cpu_kernels(xp, "MaxPool2dGrad").max_pool2d_scatter(f32(dy), argmax, *in_hw, kernel,
                                                              stride, padding)
        return to_dtype(dx, dy.dtype)

    def backward(ctx, ddx):
        argmax = ctx.inputs[1]
        attrs = {k: v for k, v in ctx.attrs.items() if k != "in_hw"}
        return MaxPool2dGather.apply(ddx, argmax, **attrs), None


class MaxPool2dGather(Op):
    """y (N, C, OH, OW) = x (N, C, H, W) at the argmax of a max pooling of this geometry."""

    def forward(xp, x, argmax, kernel, stride, padding):
        y = cpu_kernels(xp, "MaxPool2dGather").max_pool2d_gather(f32(x), argmax, kernel, stride,
                                                              padding)
        return to_dtype(y, x.dtype)

    def backward(ctx, dy):
        x, argmax = ctx.inputs
        return MaxPool2dGrad.apply(dy, argmax, in_hw=x.shape[2:], **ctx.attrs), None


class AvgPool2d(Op):
    """count_include_pad: the divisor counts padded positions (MegEngine mode "average")."""

    def forward(xp, x, kernel, stride, padding, count_include_pad):
        y = cpu_kernels(xp, "AvgPool2d").avg_pool2d_forward(f32(x), kernel, stride, padding,
                                                         count_include_pad)
        return to_dtype(y, x.dtype)

    def backward(ctx, dy):
        return AvgPool2dGrad.apply(dy, in_hw=ctx.inputs[0].shape[2:], **ctx.attrs)


class AvgPool2dGrad(Op):
    """dx (N, C, *in_hw): each dy spread over its window, divided like the forward."""

    def forward(xp, dy, in_hw, kernel, stride, padding, count_include_pad):
        dx = cpu_kernels(xp, "AvgPool2dGrad").avg_pool2d_backward(f32(dy), *in_hw, kernel, stride,
                                                               padding, count_include_pad)
        return to_dtype(dx, dy.dtype)

    def backward(ctx, ddx):
        attrs = {k: v for k, v in ctx.attrs.items() if k != "in_hw"}
        return AvgPool2d.apply(ddx, **attrs)
