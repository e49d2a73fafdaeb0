"""Elementwise functions (MegEngine names and arguments)."""
from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.tensor import Tensor

from ._utils import as_tensor

__all__ = [
    "abs", "add", "sub", "mul", "div", "floor_div", "mod", "pow", "neg", "exp", "expm1", "log",
    "log1p", "sqrt", "rsqrt", "square", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "ceil", "floor", "round", "trunc", "sign",
    "clip", "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "isnan", "isinf", "logical_and", "logical_or", "logical_xor", "logical_not",
]


def _floating(x, fn):
    """Float math on integer tensors computes in float32 (as MegEngine)."""
    x = as_tensor(x, fn)
    return x if _dt.is_float(x.dtype) else E.Cast.apply(x, dtype=_dt.float32)


def _unary_float(op, fn):
    def f(x):
        return op.apply(_floating(x, fn))

    f.__name__ = fn
    f.__doc__ = f"Elementwise {fn}; integer input computes in float32."
    return f


def _unary(op, fn):
    def f(x):
        return op.apply(as_tensor(x, fn))

    f.__name__ = fn
    f.__doc__ = f"Elementwise {fn}."
    return f


def _binary(op, fn):
    def f(x, y):
        return E.binary(op, x, y)

    f.__name__ = fn
    f.__doc__ = f"Elementwise {fn} with numpy broadcasting."
    return f


add = _binary(E.Add, "add")
sub = _binary(E.Sub, "sub")
mul = _binary(E.Mul, "mul")
floor_div = _binary(E.FloorDiv, "floor_div")
mod = _binary(E.Mod, "mod")
pow = _binary(E.Pow, "pow")
maximum = _binary(E.Maximum, "maximum")
minimum = _binary(E.Minimum, "minimum")
equal = _binary(E.Equal, "equal")
not_equal = _binary(E.NotEqual, "not_equal")
less = _binary(E.Less, "less")
less_equal = _binary(E.LessEqual, "less_equal")
greater = _binary(E.Greater, "greater")
greater_equal = _binary(E.GreaterEqual, "greater_equal")
logical_and = _binary(E.LogicalAnd, "logical_and")
logical_or = _binary(E.LogicalOr, "logical_or")
logical_xor = _binary(E.LogicalXor, "logical_xor")

neg = _unary(E.Neg, "neg")
abs = _unary(E.Abs, "abs")
sign = _unary(E.Sign, "sign")
logical_not = _unary(E.LogicalNot, "logical_not")
isnan = _unary(E.IsNan, "isnan")
isinf = _unary(E.IsInf, "isinf")
exp = _unary_float(E.Exp, "exp")
expm1 = _unary_float(E.Expm1, "expm1")
log = _unary_float(E.Log, "log")
log1p = _unary_float(E.Log1p, "log1p")
sqrt = _unary_float(E.Sqrt, "sqrt")
rsqrt = _unary_float(E.Rsqrt, "rsqrt")
sin = _unary_float(E.Sin, "sin")
cos = _unary_float(E.Cos, "cos")
tan = _unary_float(E.Tan, "tan")
asin = _unary_float(E.Asin, "asin")
acos = _unary_float(E.Acos, "acos")
atan = _unary_float(E.Atan, "atan")
sinh = _unary_float(E.Sinh, "sinh")
cosh = _unary_float(E.Cosh, "cosh")
tanh = _unary_float(E.Tanh, "tanh")
asinh = _unary_float(E.Asinh, "asinh")
acosh = _unary_float(E.Acosh, "acosh")
atanh = _unary_float(E.Atanh, "atanh")


def _int_passthrough(op, fn):
    """Rounding leaves integer tensors unchanged."""
    def f(x):
        x = as_tensor(x, fn)
        return op.apply(x) if _dt.is_float(x.dtype) else E.Cast.apply(x, dtype=x.dtype)

    f.__name__ = fn
    f.__doc__ = f"Elementwise {fn}."
    return f


ceil = _int_passthrough(E.Ceil, "ceil")
floor = _int_passthrough(E.Floor, "floor")
round = _int_passthrough(E.Round, "round")
trunc = _int_passthrough(E.Trunc, "trunc")


def square(x):
    """x * x."""
    return E.Square.apply(as_tensor(x, "square"))


def div(x, y):
    """True division; integer operands divide in float32."""
    x, y = E.operands(x, y)
    if not _dt.is_float(x.dtype):
        x = E.Cast.apply(x, dtype=_dt.float32)
        y = E.Cast.apply(y, dtype=_dt.float32)
    return E.Div.apply(x, y)


def atan2(y, x):
    """Angle of (x, y), elementwise, in float."""
    y, x = E.operands(y, x)
    if not _dt.is_float(y.dtype):
        y, x = _floating(y, "atan2"), _floating(x, "atan2")
    return E.Atan2.apply(y, x)


def clip(x, lower=None, upper=None):
    """Clamp x to [lower, upper]; either bound may be None (not both)."""
    x = as_tensor(x, "clip")
    if lower is None and upper is None:
        raise ValueError("clip: at least one of lower and upper must be given")
    if isinstance(lower, Tensor) or isinstance(upper, Tensor):
        if lower is not None:
            x = maximum(x, lower)
        return x if upper is None else minimum(x, upper)
    if lower is not None and upper is not None and lower > upper:
        raise ValueError(f"clip: lower ({lower}) is greater than upper ({upper})")
    if not _dt.is_float(x.dtype) and any(isinstance(b, float) for b in (lower, upper)):
        x = E.Cast.apply(x, dtype=_dt.float32)
    return E.Clip.apply(x, lower=lower, upper=upper)
