"""2-D convolution as three ops that are each other's gradients (MegEngine's Convolution,
ConvolutionBackwardData and ConvolutionBackwardFilter):

    Conv2d(x, w[, b])        y  = conv(x, w) + b                 x (N, C, H, W), w (O, C/G, kh, kw)
    Conv2dBackwardData(dy, w) dx = conv^T(dy, w)   (also conv_transpose2d's forward)
    Conv2dBackwardFilter(x, dy) dw

conv is bilinear in (x, w), so the gradient of each op is a combination of the three; that closes
the set under differentiation and gives grads of grads. Every op takes the same attributes:
stride, padding, dilation (pairs) and groups; the array work lives in conv_impl.py.
"""
from . import conv_impl
from .core import Op
from .nn import ReluGrad
from .reduce import Sum
from .shape import Reshape


def _params(attrs):
    return conv_impl.ConvParams(attrs["stride"], attrs["padding"], attrs["dilation"],
                                attrs["groups"])


def _window(attrs):
    return {k: attrs[k] for k in ("stride", "padding", "dilation", "groups")}


class Conv2d(Op):
    """y = conv(x, w) (+ b, an optional third input of O values, e.g. shape (1, O, 1, 1))."""

    def forward(xp, x, w, *bias, stride, padding, dilation, groups):
        p = conv_impl.ConvParams(stride, padding, dilation, groups)
        return conv_impl.forward(xp, x, w, bias[0] if bias else None, p)

    def backward(ctx, dy):
        return _conv_backward(ctx, dy)


def _conv_backward(ctx, dy):
    """Gradients of x, w (and b) of a Conv2d(-like) node given the gradient dy of conv + b."""
    x, w = ctx.inputs[:2]
    need = ctx.needs_input_grad
    win = _window(ctx.attrs)
    dx = Conv2dBackwardData.apply(dy, w, in_hw=x.shape[2:], **win) if need[0] else None
    dw = Conv2dBackwardFilter.apply(x, dy, kernel=w.shape[2:], **win) if need[1] else None
    if len(ctx.inputs) == 2:
        return dx, dw
    b = ctx.inputs[2]
    db = None
    if need[2]:
        db = Reshape.apply(Sum.apply(dy, axis=(0, 2, 3), keepdims=False), shape=b.shape)
    return dx, dw, db


class Conv2dRelu(Op):
    """z = max(conv(x, w) + b, 0), the ReLU applied in the conv's output pass (M.ConvRelu2d)."""

    save_outputs = True

    def forward(xp, x, w, *bias, stride, padding, dilation, groups):
        p = conv_impl.ConvParams(stride, padding, dilation, groups)
        return conv_impl.forward(xp, x, w, bias[0] if bias else None, p, relu=True)

    def backward(ctx, dz):
        return _conv_backward(ctx, ReluGrad.apply(dz, ctx.outputs[0]))


class Conv2dBackwardData(Op):
    """dx (N, C, *in_hw) of y = conv(x, w) given dy: the transposed convolution of dy with w."""

    def forward(xp, dy, w, in_hw, stride, padding, dilation, groups):
        p = conv_impl.ConvParams(stride, padding, dilation, groups)
        return conv_impl.backward_data(xp, dy, w, in_hw, p)

    def backward(ctx, ddx):
        dy, w = ctx.inputs
        need = ctx.needs_input_grad
        win = _window(ctx.attrs)
        # <ddx, conv^T(dy, w)> = <conv(ddx, w), dy>: linear in dy, and in w like a filter grad
        d_dy = Conv2d.apply(ddx, w, **win) if need[0] else None
        d_w = Conv2dBackwardFilter.apply(ddx, dy, kernel=w.shape[2:], **win) if need[1] else None
        return d_dy, d_w


class Conv2dBackwardFilter(Op):
    """dw (O, C/G, *kernel) of y = conv(x, w) given x and dy."""

    def forward(xp, x, dy, kernel, stride, padding, dilation, groups):
        p = conv_impl.ConvParams(stride, padding, dilation, groups)
        return conv_impl.backward_filter(xp, x, dy, kernel, p)

    def backward(ctx, ddw):
        x, dy = ctx.inputs
        need = ctx.needs_input_grad
        win = _window(ctx.attrs)
        # <ddw, dw(x, dy)> = <conv(x, ddw), dy> = <x, conv^T(dy, ddw)>
        d_x = Conv2dBackwardData.apply(dy, ddw, in_hw=x.shape[2:], **win) if need[0] else None
        d_dy = Conv2d.apply(x, ddw, **win) if need[1] else None
        return d_x, d_dy
