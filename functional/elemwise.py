"""Elementwise functions (MegEngine names and arguments)."""
from engine import dtype as _dt
from engine.ops import bitwise as B
from engine.ops import elemwise as E
from engine.ops.core import apply1
from engine.tensor import Tensor

from ._utils import as_tensor

__all__ = [
    "abs", "add", "sub", "mul", "div", "floor_div", "mod", "pow", "neg", "exp", "expm1", "log",
    "log1p", "sqrt", "rsqrt", "square", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "ceil", "floor", "round", "trunc", "sign",
    "clip", "maximum", "minimum", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "isnan", "isinf", "logical_and", "logical_or", "logical_xor", "logical_not",
]
__all__ += ["left_shift", "right_shift", "logaddexp"]


def _floating(x, fn):
    """Float math on integer tensors computes in float32 (as MegEngine)."""
    if type(x) is not Tensor:
        x = as_tensor(x, fn)
    return x if _dt.is_float(x.dtype) else E.Cast.apply(x, dtype=_dt.float32)


def _unary_float(op, fn):
    def f(x):
        return apply1(op, _floating(x, fn))

    f.__name__ = fn
    f.__doc__ = f"Elementwise {fn}; integer input computes in float32."
    return f


def _unary(op, fn):
    def f(x):
        return apply1(op, as_tensor(x, fn))

    f.__name__ = fn
    f.__doc__ = f"Elementwise {fn}."
    return f


def _scalar_pair(x, y):
    """Two Python numbers make a 0-d tensor of the first (MegEngine: F.maximum(1, 2))."""
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        return Tensor(x), y
    return x, y


def _binary(op, fn):
    def f(x, y):
        if not isinstance(x, Tensor) and not isinstance(y, Tensor):
            x, y = _scalar_pair(x, y)
        return E.binary(op, x, y)

    f.__name__ = fn
    f.__doc__ = f"Elementwise {fn} with numpy broadcasting."
    return f


add = _binary(E.Add, "add")
sub = _binary(E.Sub, "sub")
mul = _binary(E.Mul, "mul")
floor_div = _binary(E.FloorDiv, "floor_div")
mod = _binary(E.Mod, "mod")


def pow(x, y):
    """Elementwise ``x ** y`` with numpy broadcasting; integer operands compute in float32
    (as MegEngine's F.pow).

    Args:
        x: the base (tensor or number).
        y: the exponent (tensor or number).

    Returns:
        the float tensor x ** y.

    Examples:
        >>> F.pow(2, 3).numpy()
        array(8., dtype=float32)
    """
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = Tensor(x)
    x, y = E.operands(x, y)
    if not _dt.is_float(x._storage.array.dtype):
        x = E.Cast.apply(x, dtype=_dt.float32)
        y = E.Cast.apply(y, dtype=_dt.float32)
    return E.Pow.apply(x, y)


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


def isnan(inp):
    """Elementwise test for NaN.

    Args:
        inp: input tensor.

    Returns:
        a bool tensor of inp's shape.

    Examples:
        >>> F.isnan(Tensor([1.0, float("nan")])).numpy()
        array([False,  True])
    """
    return E.IsNan.apply(as_tensor(inp, "isnan"))


def isinf(inp):
    """Elementwise test for +-inf.

    Args:
        inp: input tensor.

    Returns:
        a bool tensor of inp's shape.

    Examples:
        >>> F.isinf(Tensor([1.0, float("-inf")])).numpy()
        array([False,  True])
    """
    return E.IsInf.apply(as_tensor(inp, "isinf"))


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
    """Element-wise square, ``x * x``.

    Args:
        x: input tensor.

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.square(Tensor([-2., 0.5, 3.])).numpy()
        array([4.  , 0.25, 9.  ], dtype=float32)
        >>> F.square(Tensor([-3, 4])).numpy()
        array([ 9, 16], dtype=int32)
    """
    return E.Square.apply(as_tensor(x, "square"))


def div(x, y):
    """Element-wise true division: ``x / y``.

    Integer (and bool) operands divide in float32, as MegEngine; two Python numbers give a
    0-d tensor.

    Args:
        x: the dividend, a tensor or a scalar.
        y: the divisor, a tensor or a scalar; ``x`` and ``y`` broadcast against each other
            (numpy's rules) and their dtypes are promoted to one.

    Returns:
        a floating-point tensor of the broadcast shape.

    Examples:
        >>> F.div(Tensor([1., 2.]), Tensor([4., 8.])).numpy()
        array([0.25, 0.25], dtype=float32)
        >>> F.div(Tensor([1, 2, 3]), 2).numpy()
        array([0.5, 1. , 1.5], dtype=float32)
        >>> F.div(7, 2).numpy()
        array(3.5, dtype=float32)
    """
    x, y = E.operands(*_scalar_pair(x, y))
    if not _dt.is_float(x.dtype):
        x = E.Cast.apply(x, dtype=_dt.float32)
        y = E.Cast.apply(y, dtype=_dt.float32)
    return E.Div.apply(x, y)


def atan2(y, x):
    """Element-wise angle of the point (x, y): the arctangent of ``y / x`` in (-pi, pi], with
    the quadrant taken from the signs of both.

    Integer operands compute in float32, as MegEngine; two Python numbers give a 0-d tensor.

    Args:
        y: the y coordinates, a tensor or a scalar.
        x: the x coordinates, a tensor or a scalar; ``y`` and ``x`` broadcast against each
            other.

    Returns:
        a floating-point tensor of the broadcast shape, in radians.

    Examples:
        >>> F.atan2(Tensor([1., 1., -1.]), Tensor([1., -1., 0.])).numpy()
        array([ 0.785398...,  2.3561945, -1.5707964], dtype=float32)
        >>> F.atan2(Tensor([0, 1]), Tensor([1, 0])).numpy()
        array([0.       , 1.5707964], dtype=float32)
        >>> F.atan2(1, 1).numpy()
        array(0.785398..., dtype=float32)
    """
    y, x = E.operands(*_scalar_pair(y, x))
    if not _dt.is_float(y.dtype):
        y, x = _floating(y, "atan2"), _floating(x, "atan2")
    return E.Atan2.apply(y, x)


def clip(x, lower=None, upper=None):
    """Clamps every element into the range ``[lower, upper]``.

    Args:
        x: input tensor.
        lower: the lower bound (a scalar or a tensor that broadcasts against ``x``); None
            for no lower bound.
        upper: the upper bound, likewise; at least one of the bounds must be given.

    Returns:
        a tensor of ``x``'s shape; an integer tensor clipped with float bounds becomes float32.

    Examples:
        >>> x = Tensor([-2., 0.5, 3.])
        >>> F.clip(x, 0, 1).numpy()
        array([0. , 0.5, 1. ], dtype=float32)
        >>> F.clip(x, lower=0).numpy()
        array([0. , 0.5, 3. ], dtype=float32)
        >>> F.clip(Tensor([1, 5, 9]), upper=6).numpy()
        array([1, 5, 6], dtype=int32)
    """
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


def _shift(op, fn, x, y):
    x, y = E.operands(*_scalar_pair(x, y))
    if x.dtype.kind not in "iu":
        raise TypeError(f"{fn}: expected integer tensors, got {x.dtype} and {y.dtype}")
    return op.apply(x, y)


def left_shift(x, y):
    """Element-wise ``x << y`` of integer tensors.

    Args:
        x: integer tensor (or number).
        y: integer tensor or number of bits, broadcastable against x.

    Returns:
        an integer tensor of the promoted dtype.

    Examples:
        >>> F.left_shift(Tensor([1, 2, 3]), 2).numpy()
        array([ 4,  8, 12], dtype=int32)
    """
    return _shift(B.LeftShift, "left_shift", x, y)


def right_shift(x, y):
    """Element-wise arithmetic ``x >> y`` of integer tensors (the sign is kept).

    Args:
        x: integer tensor (or number).
        y: integer tensor or number of bits, broadcastable against x.

    Returns:
        an integer tensor of the promoted dtype.

    Examples:
        >>> F.right_shift(Tensor([-8, 16, 3]), 1).numpy()
        array([-4,  8,  1], dtype=int32)
    """
    return _shift(B.RightShift, "right_shift", x, y)


def logaddexp(x, y):
    """Element-wise ``log(exp(x) + exp(y))``, computed as
    ``max(x, y) + log1p(exp(-|x - y|))`` so that large inputs do not overflow.

    Args:
        x: tensor (integer input computes in float32).
        y: tensor broadcastable against x.

    Returns:
        a float tensor.

    Examples:
        >>> F.logaddexp(Tensor([1.0, 100.0]), Tensor([2.0, 100.0])).numpy()
        array([  2.3132615, 100.693146 ], dtype=float32)
    """
    x, y = E.operands(*_scalar_pair(x, y))
    if not _dt.is_float(x.dtype):
        x, y = _floating(x, "logaddexp"), _floating(y, "logaddexp")
    return E.Maximum.apply(x, y) + E.Log1p.apply(E.Exp.apply(-E.Abs.apply(x - y)))


# The factory-made functions above get their docstrings from one table.
from ._elemwise_docs import DOCS as _DOCS  # noqa: E402

for _name, _text in _DOCS.items():
    globals()[_name].__doc__ = _text
del _name, _text


def _elemwise_multi_type(*args, mode, **kwargs):
    """MegEngine's ElemwiseMultiType(mode, dtype) on `args`: an elementwise formula whose
    output has `dtype` (engine computes the float/bool modes; quantized modes raise)."""
    from engine.core._imperative_rt.core2 import apply
    from engine.core.ops.builtin import ElemwiseMultiType

    args = [a if isinstance(a, Tensor) else as_tensor(a, "_elemwise_multi_type") for a in args]
    (result,) = apply(ElemwiseMultiType(mode=mode, **kwargs), *args)
    return result


def __getattr__(name):
    # MegEngine's path for its op descriptors (engine.core.ops.builtin), loaded on first use:
    # engine.core stays out of `import engine`
    if name in ("Elemwise", "ElemwiseMultiType"):
        from engine.core.ops import builtin

        return getattr(builtin, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
