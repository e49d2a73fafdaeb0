"""Neural-network activations. GELU runs our own kernel (csrc/kernels/gelu.h): numpy has no erf.
The softmax family lives in softmax.py."""
import math

import numpy as np

from .._native import native, stream_ptr
from .core import Op
from .elemwise import Cast, Exp, Greater, _const


class Relu(Op):
    save_outputs = True

    def forward(xp, x):
        return xp.maximum(x, xp.zeros((), x.dtype))

    def backward(ctx, dy):
        return ReluGrad.apply(dy, ctx.outputs[0])


class ReluGrad(Op):
    """dx = dy where y > 0, else 0 (torch's threshold_backward): one op, so a backward holds
    dy, y and dx, not also a float mask the size of y."""

    def forward(xp, dy, y):
        return xp.where(y > 0, dy, xp.zeros((), dy.dtype))

    def backward(ctx, ddx):
        # linear in dy; in y it is piecewise constant: no gradient
        return ReluGrad.apply(ddx, ctx.inputs[1]), None


class LeakyRelu(Op):
    def forward(xp, x, negative_slope):
        return xp.where(x > 0, x, x * x.dtype.type(negative_slope))

    def backward(ctx, dy):
        x = ctx.inputs[0]
        pos = Cast.apply(Greater.apply(x, _const(0, x.dtype, x.device)), dtype=dy.dtype)
        slope = ctx.attrs["negative_slope"]
        return dy * (pos + (1 - pos) * slope)


class Sigmoid(Op):
    save_outputs = True

    def forward(xp, x):
        # split by sign so that exp never overflows
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)

    def backward(ctx, dy):
        y = ctx.outputs[0]
        return dy * y * (1 - y)


def _gelu_call(xp, name, *arrays):
    """Run the native kernel `name` on float32 arrays of one shape (CPU or CUDA)."""
    C = native()
    if xp is np:
        return getattr(C, name)(*arrays)
    contiguous = [xp.ascontiguousarray(a) for a in arrays]  # alive until the launch is queued
    out = xp.empty(arrays[0].shape, xp.float32)
    getattr(C, name + "_cuda")(*(a.data.ptr for a in contiguous), out.data.ptr, out.size,
                               stream_ptr(xp))
    return out


class Gelu(Op):
    """x * Phi(x) with the exact normal CDF."""

    def forward(xp, x):
        if x.dtype != np.float32:
            return _gelu_call(xp, "gelu_forward", x.astype(np.float32)).astype(x.dtype)
        return _gelu_call(xp, "gelu_forward", x)

    def backward(ctx, dy):
        return GeluGrad.apply(ctx.inputs[0], dy)


class GeluGrad(Op):
    """dy * gelu'(x), gelu'(x) = Phi(x) + x phi(x)."""

    def forward(xp, x, dy):
        if x.dtype != np.float32:
            f = np.float32
            return _gelu_call(xp, "gelu_backward", x.astype(f), dy.astype(f)).astype(x.dtype)
        return _gelu_call(xp, "gelu_backward", x, dy)

    def backward(ctx, ddx):
        # gelu''(x) = phi(x) (2 - x^2)
        x, dy = ctx.inputs
        phi = Exp.apply(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))
        return ddx * dy * phi * (2 - x * x), GeluGrad.apply(x, ddx)


class OneHot(Op):
    differentiable = False

    def forward(xp, x, num_classes):
        out = xp.zeros(x.shape + (num_classes,), "int32")
        xp.put_along_axis(out, x[..., None].astype("int64"), 1, axis=-1)
        return out


class PadConstant(Op):
    def forward(xp, x, pad_width, value):
        return xp.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(ctx, dy):
        from .indexing import GetItem

        index = tuple(slice(lo, lo + s) for (lo, _), s in
                      zip(ctx.attrs["pad_width"], ctx.inputs[0].shape))
        return GetItem.apply(dy, index=index)
