"""Softmax, log-softmax and the fused softmax cross-entropy, on our native kernels
(csrc/kernels/softmax.h). Every backward is itself an op whose backward is written with ops, so
nested GradManagers get second derivatives."""
from ._kernels import call, f32, i32
from .core import Op
from .elemwise import Exp
from .indexing import Gather
from .reduce import Sum


class Softmax(Op):
    """exp(x - max) / sum(exp(x - max)) along `axis`."""

    save_outputs = True

    def forward(xp, x, axis):
        return call(xp, "softmax_forward", f32(x), axis=axis, log=False).astype(x.dtype, copy=False)

    def backward(ctx, dy):
        return SoftmaxGrad.apply(ctx.outputs[0], dy, axis=ctx.attrs["axis"])


class SoftmaxGrad(Op):
    """dx = y * (dy - sum(dy * y)) from the softmax output y."""

    def forward(xp, y, dy, axis):
        return call(xp, "softmax_backward", f32(y), f32(dy), axis=axis,
                    log=False).astype(y.dtype, copy=False)

    def backward(ctx, ddx):
        # dx_k = y_k dy_k - y_k S with S = sum(dy * y): linear in dy (the same map applied to
        # ddx) and, for y, ddx_k (dy_k - S) - dy_k T with T = sum(ddx * y).
        y, dy = ctx.inputs
        axis = ctx.attrs["axis"]
        d_y = None
        if ctx.needs_input_grad[0]:
            s = Sum.apply(dy * y, axis=axis, keepdims=True)
            t = Sum.apply(ddx * y, axis=axis, keepdims=True)
            d_y = ddx * (dy - s) - dy * t
        return d_y, SoftmaxGrad.apply(y, ddx, axis=axis)


class LogSoftmax(Op):
    """x - max - log(sum(exp(x - max))) along `axis`."""

    save_outputs = True

    def forward(xp, x, axis):
        return call(xp, "softmax_forward", f32(x), axis=axis, log=True).astype(x.dtype, copy=False)

    def backward(ctx, dy):
        return LogSoftmaxGrad.apply(ctx.outputs[0], dy, axis=ctx.attrs["axis"])


class LogSoftmaxGrad(Op):
    """dx = dy - exp(y) * sum(dy) from the log-softmax output y."""

    def forward(xp, y, dy, axis):
        return call(xp, "softmax_backward", f32(y), f32(dy), axis=axis,
                    log=True).astype(y.dtype, copy=False)

    def backward(ctx, ddx):
        y, dy = ctx.inputs
        axis = ctx.attrs["axis"]
        e = Exp.apply(y)
        d_y = None
        if ctx.needs_input_grad[0]:
            d_y = -(ddx * e * Sum.apply(dy, axis=axis, keepdims=True))
        return d_y, ddx - Sum.apply(ddx * e, axis=axis, keepdims=True)


class CrossEntropy(Op):
    """Per-position cross entropy of logits x against int labels (x's shape without `axis`), with
    label smoothing: log-softmax and NLL in one pass, nothing of x's size is kept."""

    def forward(xp, x, label, axis, smooth):
        return call(xp, "cross_entropy_forward", f32(x), i32(label), axis=axis,
                    smooth=smooth).astype(x.dtype, copy=False)

    def backward(ctx, dloss):
        x, label = ctx.inputs
        return CrossEntropyGrad.apply(x, label, dloss, **ctx.attrs), None


class CrossEntropyGrad(Op):
    """dx = dloss * (softmax(x) - target), target = (1 - smooth) onehot(label) + smooth / n."""

    def forward(xp, x, label, dloss, axis, smooth):
        return call(xp, "cross_entropy_backward", f32(x), i32(label), f32(dloss), axis=axis,
                    smooth=smooth).astype(x.dtype, copy=False)

    def backward(ctx, ddx):
        x, label, dloss = ctx.inputs
        axis, smooth = ctx.attrs["axis"], ctx.attrs["smooth"]
        keep_axis = x.shape[:axis] + (1,) + x.shape[axis + 1:]
        p = Softmax.apply(x, axis=axis)
        d_x = d_loss = None
        if ctx.needs_input_grad[0]:
            d_x = SoftmaxGrad.apply(p, ddx, axis=axis) * dloss.reshape(keep_axis)
        if ctx.needs_input_grad[2]:
            # sum_c ddx_c (p_c - t_c) = sum(ddx p) - (1 - smooth) ddx[label] - smooth mean(ddx)
            d = Sum.apply(ddx * p, axis=axis, keepdims=True)
            d = d - Gather.apply(ddx, label.reshape(keep_axis), axis=axis) * (1 - smooth)
            if smooth:
                d = d - Sum.apply(ddx, axis=axis, keepdims=True) * (smooth / x.shape[axis])
            d_loss = d.reshape(dloss.shape)
        return d_x, None, d_loss
