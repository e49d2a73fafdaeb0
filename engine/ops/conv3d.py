"""3-D convolution as three ops that are each other's gradients (MegEngine's Convolution3D,
Convolution3DBackwardData and Convolution3DBackwardFilter), as conv.py does for 2-D:

    Conv3d(x, w[, b])          y  = conv3d(x, w) + b      x (N, C, D, H, W), w (O, C/G, kd, kh, kw)
    Conv3dBackwardData(dy, w)  dx = conv3d^T(dy, w)      (also conv_transpose3d's forward)
    Conv3dBackwardFilter(x, dy) dw

Attributes: stride, padding, dilation (triples) and groups; the array work is in conv3d_impl.py.
"""
from . import conv3d_impl
from .core import Op
from .reduce import Sum
from .shape import Reshape


def _window(attrs):
    return {k: attrs[k] for k in ("stride", "padding", "dilation", "groups")}


class Conv3d(Op):
    """y = conv3d(x, w) (+ b, an optional third input of O values, e.g. (1, O, 1, 1, 1))."""

    def forward(xp, x, w, *bias, stride, padding, dilation, groups):
        p = conv3d_impl.Conv3dParams(stride, padding, dilation, groups)
        return conv3d_impl.forward(xp, x, w, bias[0] if bias else None, p)

    def backward(ctx, dy):
        x, w = ctx.inputs[:2]
        need = ctx.needs_input_grad
        win = _window(ctx.attrs)
        dx = Conv3dBackwardData.apply(dy, w, in_size=x.shape[2:], **win) if need[0] else None
        dw = Conv3dBackwardFilter.apply(x, dy, kernel=w.shape[2:], **win) if need[1] else None
        if len(ctx.inputs) == 2:
            return dx, dw
        b = ctx.inputs[2]
        db = None
        if need[2]:
            db = Reshape.apply(Sum.apply(dy, axis=(0, 2, 3, 4), keepdims=False), shape=b.shape)
        return dx, dw, db


class Conv3dBackwardData(Op):
    """dx (N, C, *in_size) of y = conv3d(x, w) given dy: the transposed convolution of dy."""

    def forward(xp, dy, w, in_size, stride, padding, dilation, groups):
        p = conv3d_impl.Conv3dParams(stride, padding, dilation, groups)
        return conv3d_impl.backward_data(xp, dy, w, in_size, p)

    def backward(ctx, ddx):
        dy, w = ctx.inputs
        need = ctx.needs_input_grad
        win = _window(ctx.attrs)
        # <ddx, conv^T(dy, w)> = <conv(ddx, w), dy>: linear in dy, and in w like a filter grad
        d_dy = Conv3d.apply(ddx, w, **win) if need[0] else None
        d_w = Conv3dBackwardFilter.apply(ddx, dy, kernel=w.shape[2:], **win) if need[1] else None
        return d_dy, d_w


class Conv3dBackwardFilter(Op):
    """dw (O, C/G, *kernel) of y = conv3d(x, w) given x and dy."""

    def forward(xp, x, dy, kernel, stride, padding, dilation, groups):
        p = conv3d_impl.Conv3dParams(stride, padding, dilation, groups)
        return conv3d_impl.backward_filter(xp, x, dy, kernel, p)

    def backward(ctx, ddw):
        x, dy = ctx.inputs
        need = ctx.needs_input_grad
        win = _window(ctx.attrs)
        # <ddw, dw(x, dy)> = <conv(x, ddw), dy> = <x, conv^T(dy, ddw)>
        d_x = Conv3dBackwardData.apply(dy, ddw, in_size=x.shape[2:], **win) if need[0] else None
        d_dy = Conv3d.apply(x, ddw, **win) if need[1] else None
        return d_x, d_dy
