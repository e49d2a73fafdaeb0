"""Elementwise ops: arithmetic, transcendental, comparison and logical, and `where`.

Binary ops broadcast like numpy; their backward sums the gradient back to each input's shape
(`sum_to`). Python scalars combine with tensors under the weak typing of engine.dtype.
"""
import numpy as np

from .. import dtype as _dt
from .._native import _C
from ..tensor import Tensor
from . import _kernels
from ._kernels import _F32
from .core import Op, _tensor, apply2

_consts = {}  # (type, value, dtype, device) -> 0-d Tensor: Python scalars in hot loops


def _const(value, dtype, device):
    """A 0-d constant tensor, cached: `x * 2.0` should not build a new array every call."""
    key = (type(value), value, dtype, device)
    if value == 0 and type(value) is float:
        key += (str(value),)  # 0.0 == -0.0 but the sign of zero is observable (1 / (x * -0.0))
    t = _consts.get(key)
    if t is None:
        from ..allocator import Storage

        try:
            array = np.asarray(value, dtype=dtype)
        except OverflowError:
            raise ValueError(f"the Python number {value!r} does not fit the dtype {dtype} of the "
                             "tensor it is combined with; cast the tensor first") from None
        if len(_consts) >= 4096:
            _consts.clear()
        t = _consts[key] = _tensor(Storage(device.xp.asarray(array), device))
    return t


def _to_tensor(x, like):
    """Tensor for a non-Tensor operand `x` of an op whose tensor operand is `like`."""
    dt = _dt.scalar_dtype(x, like.dtype) if isinstance(x, (bool, int, float)) else None
    if dt is not None:
        return _const(x, dt, like._storage.device)
    if isinstance(x, (np.ndarray, np.generic, list, tuple)):
        return Tensor(x, device=like._storage.device)
    if x is None:  # MegEngine's message
        raise TypeError("the operand is None and is not supported.")
    raise TypeError(f"unsupported operand type {type(x).__name__}; expected a Tensor, a Python "
                    "number or a numpy array")


def operands(a, b):
    """Turn (a, b) into two tensors of one promoted dtype on one device."""
    if not isinstance(a, Tensor):
        if not isinstance(b, Tensor):
            raise TypeError("operands: at least one operand must be a Tensor")
        a = _to_tensor(a, b)
    elif not isinstance(b, Tensor):
        b = _to_tensor(b, a)
    da = a._storage.array.dtype
    db = b._storage.array.dtype
    if da is not db and da != db:
        dt = _dt.promote(da, db)
        if da != dt:
            a = Cast.apply(a, dtype=dt)
        if db != dt:
            b = Cast.apply(b, dtype=dt)
    return a, b


def binary(op, a, b):
    if type(a) is Tensor and type(b) is Tensor and a._storage.array.dtype is \
            b._storage.array.dtype:
        return apply2(op, a, b)  # the hot path: no promotion needed
    a, b = operands(a, b)
    return apply2(op, a, b)


def sum_to(g, shape):
    """Sum a broadcast gradient `g` back to `shape`."""
    if g.shape == shape:
        return g
    from .reduce import Sum
    from .shape import Reshape

    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if axes:
        g = Sum.apply(g, axis=axes, keepdims=True)
    return Reshape.apply(g, shape=tuple(shape)) if g.shape != shape else g


class Cast(Op):
    def forward(xp, x, dtype):
        if x.size >= _kernels._NATIVE_HALF_MIN:  # float32 <-> float16 in hardware (F16C)
            return _kernels.to_dtype(x, dtype) if x.dtype != dtype else x.copy()
        return x.astype(dtype)

    def backward(ctx, dy):
        src = ctx.inputs[0].dtype
        return Cast.apply(dy, dtype=src) if _dt.is_float(src) else None


# ---------------------------------------------------------------- arithmetic
# From this many elements a same-shape float32 add/sub/mul runs on engine's threads (numpy's loop
# is single-threaded): 2M floats 0.55 ms against 0.89; below, waking the team (~40 us) costs more.
_NATIVE_ARITH_MIN = 1 << 18


def _native_arith(xp, a, b):
    """Whether csrc/cpu/arith.cpp takes a and b. Callers test a.size >= _NATIVE_ARITH_MIN first,
    inline: the small adds of eager code then pay one comparison, not a call."""
    return (xp is np and _C is not None and a.dtype is _F32 and b.dtype is _F32
            and a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous)


class Add(Op):
    def forward(xp, a, b):
        if a.size >= _NATIVE_ARITH_MIN and _native_arith(xp, a, b):
            return _C.add(a, b)
        return a + b

    def backward(ctx, dy):
        a, b = ctx.inputs
        return sum_to(dy, a.shape), sum_to(dy, b.shape)


class Sub(Op):
    def forward(xp, a, b):
        if a.size >= _NATIVE_ARITH_MIN and _native_arith(xp, a, b):
            return _C.sub(a, b)
        return a - b

    def backward(ctx, dy):
        a, b = ctx.inputs
        return sum_to(dy, a.shape), sum_to(-dy, b.shape)


class Mul(Op):
    def forward(xp, a, b):
        if a.size >= _NATIVE_ARITH_MIN and _native_arith(xp, a, b):
            return _C.mul(a, b)
        return a * b

    def backward(ctx, dy):
        a, b = ctx.inputs
        na, nb = ctx.needs_input_grad
        return (sum_to(dy * b, a.shape) if na else None,
                sum_to(dy * a, b.shape) if nb else None)


class Div(Op):
    def forward(xp, a, b):
        return a / b

    def backward(ctx, dy):
        a, b = ctx.inputs
        na, nb = ctx.needs_input_grad
        return (sum_to(dy / b, a.shape) if na else None,
                sum_to(-dy * a / (b * b), b.shape) if nb else None)


class FloorDiv(Op):
    differentiable = False  # piecewise constant: no useful gradient (as in PyTorch)

    def forward(xp, a, b):
        return a // b


class Mod(Op):
    """MegEngine's MOD: C's fmod for floats (the result has the sign of a), Python's floored
    modulo for integers."""

    def forward(xp, a, b):
        return xp.mod(a, b) if a.dtype.kind in "iub" else xp.fmod(a, b)  # (bfloat16: kind "V")

    def backward(ctx, dy):
        a, b = ctx.inputs  # fmod(a, b) = a - trunc(a / b) * b
        return sum_to(dy, a.shape), sum_to(-dy * Trunc.apply(Div.apply(a, b)), b.shape)


class Pow(Op):
    save_outputs = True

    def forward(xp, a, b):
        return xp.power(a, b)

    def backward(ctx, dy):
        a, b = ctx.inputs
        na, nb = ctx.needs_input_grad
        da = sum_to(dy * b * Pow.apply(a, b - 1), a.shape) if na else None
        db = None
        if nb:
            pos = a > 0
            safe_log = Log.apply(Where.apply(pos, a, _const(1, a.dtype, a._storage.device)))
            db = sum_to(dy * ctx.outputs[0] * safe_log, b.shape)
        return da, db


class Maximum(Op):
    def forward(xp, a, b):
        return xp.maximum(a, b)

    def backward(ctx, dy):
        return _select_grads(ctx, dy, Greater)


class Minimum(Op):
    def forward(xp, a, b):
        return xp.minimum(a, b)

    def backward(ctx, dy):
        return _select_grads(ctx, dy, Less)


def _select_grads(ctx, dy, wins):
    """Gradient of max/min of two tensors: the winner takes it, ties split it evenly."""
    a, b = ctx.inputs
    wa = Cast.apply(wins.apply(a, b), dtype=dy.dtype)
    tie = Cast.apply(Equal.apply(a, b), dtype=dy.dtype) * 0.5
    wb = 1 - wa - tie
    return sum_to(dy * (wa + tie), a.shape), sum_to(dy * (wb), b.shape)


class Atan2(Op):
    def forward(xp, y, x):
        return xp.arctan2(y, x)

    def backward(ctx, dg):
        y, x = ctx.inputs
        r2 = x * x + y * y
        return sum_to(dg * x / r2, y.shape), sum_to(-dg * y / r2, x.shape)


# -------------------------------------------------------------------- unary
class Neg(Op):
    def forward(xp, x):
        return -x

    def backward(ctx, dy):
        return -dy


class Abs(Op):
    def forward(xp, x):
        return xp.abs(x)

    def backward(ctx, dy):
        return dy * Sign.apply(ctx.inputs[0])


class Exp(Op):
    save_outputs = True

    def forward(xp, x):
        return xp.exp(x)

    def backward(ctx, dy):
        return dy * ctx.outputs[0]


class Expm1(Op):
    save_outputs = True

    def forward(xp, x):
        return xp.expm1(x)

    def backward(ctx, dy):
        return dy * (ctx.outputs[0] + 1)


class Log(Op):
    def forward(xp, x):
        return xp.log(x)

    def backward(ctx, dy):
        return dy / ctx.inputs[0]


class Log1p(Op):
    def forward(xp, x):
        return xp.log1p(x)

    def backward(ctx, dy):
        return dy / (ctx.inputs[0] + 1)


class Sqrt(Op):
    save_outputs = True

    def forward(xp, x):
        return xp.sqrt(x)

    def backward(ctx, dy):
        return dy / (ctx.outputs[0] * 2)


class Rsqrt(Op):
    save_outputs = True

    def forward(xp, x):
        return 1 / xp.sqrt(x)

    def backward(ctx, dy):
        y = ctx.outputs[0]
        return dy * y * y * y * -0.5


class Square(Op):
    def forward(xp, x):
        return x * x

    def backward(ctx, dy):
        return dy * ctx.inputs[0] * 2


class Sin(Op):
    def forward(xp, x):
        return xp.sin(x)

    def backward(ctx, dy):
        return dy * Cos.apply(ctx.inputs[0])


class Cos(Op):
    def forward(xp, x):
        return xp.cos(x)

    def backward(ctx, dy):
        return -dy * Sin.apply(ctx.inputs[0])


class Tan(Op):
    save_outputs = True

    def forward(xp, x):
        return xp.tan(x)

    def backward(ctx, dy):
        y = ctx.outputs[0]
        return dy * (y * y + 1)


class Asin(Op):
    def forward(xp, x):
        return xp.arcsin(x)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return dy * Rsqrt.apply(1 - x * x)


class Acos(Op):
    def forward(xp, x):
        return xp.arccos(x)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return -dy * Rsqrt.apply(1 - x * x)


class Atan(Op):
    def forward(xp, x):
        return xp.arctan(x)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return dy / (x * x + 1)


class Sinh(Op):
    def forward(xp, x):
        return xp.sinh(x)

    def backward(ctx, dy):
        return dy * Cosh.apply(ctx.inputs[0])


class Cosh(Op):
    def forward(xp, x):
        return xp.cosh(x)

    def backward(ctx, dy):
        return dy * Sinh.apply(ctx.inputs[0])


class Tanh(Op):
    save_outputs = True

    def forward(xp, x):
        return xp.tanh(x)

    def backward(ctx, dy):
        y = ctx.outputs[0]
        return dy * (1 - y * y)


class Asinh(Op):
    def forward(xp, x):
        return xp.arcsinh(x)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return dy * Rsqrt.apply(x * x + 1)


class Acosh(Op):
    def forward(xp, x):
        return xp.arccosh(x)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return dy * Rsqrt.apply(x * x - 1)


class Atanh(Op):
    def forward(xp, x):
        return xp.arctanh(x)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return dy / (1 - x * x)


class _Flat(Op):
    """Piecewise-constant ops: gradient zero almost everywhere (as in PyTorch)."""

    def backward(ctx, dy):
        return dy * 0


class Ceil(_Flat):
    def forward(xp, x):
        return xp.ceil(x)


class Floor(_Flat):
    def forward(xp, x):
        return xp.floor(x)


class Round(_Flat):
    def forward(xp, x):
        # half away from zero (MegEngine), not numpy's half to even
        return (xp.sign(x) * xp.floor(xp.abs(x) + 0.5)).astype(x.dtype)


class Trunc(_Flat):
    def forward(xp, x):
        return xp.trunc(x)


class Sign(_Flat):
    def forward(xp, x):
        return xp.sign(x)


class Clip(Op):
    def forward(xp, x, lower, upper):
        if lower is not None:
            x = xp.maximum(x, xp.asarray(lower, dtype=x.dtype))
        if upper is not None:
            x = xp.minimum(x, xp.asarray(upper, dtype=x.dtype))
        return x if lower is not None or upper is not None else x.copy()

    def backward(ctx, dy):
        x = ctx.inputs[0]
        lo, hi = ctx.attrs["lower"], ctx.attrs["upper"]
        keep = None
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else LogicalAnd.apply(keep, x <= hi)
        return dy if keep is None else dy * Cast.apply(keep, dtype=dy.dtype)


# ----------------------------------------------------- comparison and logic
class _Predicate(Op):
    differentiable = False


class Equal(_Predicate):
    def forward(xp, a, b):
        return a == b


class NotEqual(_Predicate):
    def forward(xp, a, b):
        return a != b


class Less(_Predicate):
    def forward(xp, a, b):
        return a < b


class LessEqual(_Predicate):
    def forward(xp, a, b):
        return a <= b


class Greater(_Predicate):
    def forward(xp, a, b):
        return a > b


class GreaterEqual(_Predicate):
    def forward(xp, a, b):
        return a >= b


class IsNan(_Predicate):
    def forward(xp, x):
        return xp.isnan(x)


class IsInf(_Predicate):
    def forward(xp, x):
        return xp.isinf(x)


class LogicalAnd(_Predicate):
    def forward(xp, a, b):
        return xp.logical_and(a, b)


class LogicalOr(_Predicate):
    def forward(xp, a, b):
        return xp.logical_or(a, b)


class LogicalXor(_Predicate):
    def forward(xp, a, b):
        return xp.logical_xor(a, b)


class LogicalNot(_Predicate):
    def forward(xp, x):
        return xp.logical_not(x)


class Where(Op):
    def forward(xp, mask, x, y):
        return xp.where(mask, x, y)

    def backward(ctx, dy):
        # The branch not selected gets zeros, never NaN from the other branch.
        mask, x, y = ctx.inputs
        zero = _const(0, dy.dtype, dy._storage.device)
        return (None, sum_to(Where.apply(mask, dy, zero), x.shape),
                sum_to(Where.apply(mask, zero, dy), y.shape))
