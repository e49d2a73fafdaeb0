"""Neural-network activations. On CPU float32 arrays ReLU, leaky ReLU, sigmoid and SiLU (and
their gradients) run native loops (csrc/kernels/activation.h; numpy's are single-threaded and
build masks), sigmoid/SiLU with the vectorised exp of csrc/cpu/vmath.h; other dtypes and GPU
arrays take the xp expression. GELU runs our own kernel (csrc/kernels/gelu.h): numpy has no erf.
The softmax family lives in softmax.py."""
import math

import numpy as np

from .._native import _C, native, stream_ptr
from ._kernels import _F32
from .core import Op
from .elemwise import _NATIVE_ARITH_MIN, Add, Exp, _native_arith, sum_to

# ReLU and leaky ReLU (exact in float32 either way) below this many elements take numpy's
# expression: quicker than a call into _C (0.3 against 0.6 us for 4 floats), the eager per-op
# cost being what matters there. Sigmoid and SiLU always run the kernel, whose rounding differs
# from numpy's: a result must not depend on the array's size.
_EXACT_NATIVE_MIN = 256


def _native_cpu(xp, *arrays, min_size=0):
    """True when engine._C's CPU activation kernels take these arrays: float32 numpy arrays of
    at least min_size elements."""
    if xp is not np or _C is None:
        return False
    for a in arrays:
        if a.dtype is not _F32 or a.size < min_size:
            return False
    return True


def _zero(xp, dtype):
    """A 0-d zero of `dtype`, made once per (backend, dtype): relu's max(x, 0) on a small array
    spent a fifth of its time building the zero."""
    key = (xp, dtype)
    z = _ZEROS.get(key)
    if z is None:
        z = _ZEROS[key] = xp.zeros((), dtype)
    return z


_ZEROS = {}


class Relu(Op):
    save_outputs = True

    def forward(xp, x):
        # the size first: a small array never takes the native loop, and the test is cheaper
        if x.size >= _EXACT_NATIVE_MIN and _native_cpu(xp, x):
            return _C.relu_forward(x)
        return xp.maximum(x, _zero(xp, x.dtype))

    def backward(ctx, dy):
        return ReluGrad.apply(dy, ctx.outputs[0])


class ReluGrad(Op):
    """dx = dy where y > 0, else 0 (torch's threshold_backward): one op, so a backward holds
    dy, y and dx, not also a float mask the size of y."""

    def forward(xp, dy, y):
        if dy.size >= _EXACT_NATIVE_MIN and _native_cpu(xp, dy, y) and dy.shape == y.shape:
            return _C.relu_backward(dy, y)
        return xp.where(y > 0, dy, _zero(xp, dy.dtype))

    def backward(ctx, ddx):
        # linear in dy; in y it is piecewise constant: no gradient
        return ReluGrad.apply(ddx, ctx.inputs[1]), None


class AddRelu(Op):
    """relu(a + b) in one pass (a residual block's end): the bits of Add then Relu (the same
    native-or-numpy choice as Add's, then kernels::relu_forward). A traced training step uses it
    where a sum is read by a ReLU alone (engine/jit/fusion.py)."""

    save_outputs = True

    def forward(xp, a, b):
        if a.size >= _NATIVE_ARITH_MIN and _native_arith(xp, a, b):
            return _C.add_relu(a, b)
        return Relu.forward(xp, Add.forward(xp, a, b))

    def backward(ctx, dz):
        dy = ReluGrad.apply(dz, ctx.outputs[0])
        a, b = ctx.inputs
        return sum_to(dy, a.shape), sum_to(dy, b.shape)


class LeakyRelu(Op):
    def forward(xp, x, negative_slope):
        if _native_cpu(xp, x, min_size=_EXACT_NATIVE_MIN):
            return _C.leaky_relu_forward(x, negative_slope)
        return xp.where(x > 0, x, x * x.dtype.type(negative_slope))

    def backward(ctx, dy):
        return LeakyReluGrad.apply(dy, ctx.inputs[0], negative_slope=ctx.attrs["negative_slope"])


class LeakyReluGrad(Op):
    """dx = dy where x > 0, else negative_slope * dy (from the input: a negative slope would
    flip the output's sign)."""

    def forward(xp, dy, x, negative_slope):
        if _native_cpu(xp, dy, x, min_size=_EXACT_NATIVE_MIN) and dy.shape == x.shape:
            return _C.leaky_relu_backward(dy, x, negative_slope)
        return xp.where(x > 0, dy, dy * dy.dtype.type(negative_slope))

    def backward(ctx, ddx):
        # linear in dy; piecewise constant in x
        return LeakyReluGrad.apply(ddx, ctx.inputs[1], **ctx.attrs), None


class Sigmoid(Op):
    save_outputs = True

    def forward(xp, x):
        if _native_cpu(xp, x):
            return _C.sigmoid_forward(x)
        # split by sign so that exp never overflows
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)

    def backward(ctx, dy):
        return SigmoidGrad.apply(dy, ctx.outputs[0])


class SigmoidGrad(Op):
    """dx = dy * y * (1 - y) from sigmoid's output y, in one pass."""

    def forward(xp, dy, y):
        if _native_cpu(xp, dy, y) and dy.shape == y.shape:
            return _C.sigmoid_backward(dy, y)
        return dy * y * (1 - y)

    def backward(ctx, ddx):
        dy, y = ctx.inputs
        return SigmoidGrad.apply(ddx, y), ddx * dy * (1 - 2 * y)


class Silu(Op):
    """x * sigmoid(x) in one pass (the composition costs a sigmoid, a product and, backward, four
    more elementwise passes)."""

    def forward(xp, x):
        if _native_cpu(xp, x):
            return _C.silu_forward(x)
        return x * Sigmoid.forward(xp, x)

    def backward(ctx, dy):
        return SiluGrad.apply(dy, ctx.inputs[0])


class SiluGrad(Op):
    """dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x)."""

    def forward(xp, dy, x):
        if _native_cpu(xp, dy, x) and dy.shape == x.shape:
            return _C.silu_backward(dy, x)
        s = Sigmoid.forward(xp, x)
        return dy * s * (1 + x * (1 - s))

    def backward(ctx, ddx):
        # d/dx [s (1 + x (1 - s))] = s (1 - s) (2 + x (1 - 2 s))
        dy, x = ctx.inputs
        s = Sigmoid.apply(x)
        return SiluGrad.apply(ddx, x), ddx * dy * s * (1 - s) * (2 + x * (1 - 2 * s))


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
