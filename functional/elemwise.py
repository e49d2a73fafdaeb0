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
    return x if x.dtype.kind == "f" else E.Cast.apply(x, dtype=_dt.float32)


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
        return op.apply(x) if x.dtype.kind == "f" else E.Cast.apply(x, dtype=x.dtype)

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
    """Element-wise true division, ``x / y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other.

    Returns:
        a floating-point tensor of the broadcast shape; integer operands divide in float32.

    Examples:
        >>> F.div(Tensor([1, 2, 3]), 2).numpy()
        array([0.5, 1. , 1.5], dtype=float32)
        >>> F.div(Tensor([1., 4.]), Tensor([[2.], [4.]])).numpy()
        array([[0.5 , 2.  ],
               [0.25, 1.  ]], dtype=float32)
    """
    x, y = E.operands(x, y)
    if x.dtype.kind != "f":
        x = E.Cast.apply(x, dtype=_dt.float32)
        y = E.Cast.apply(y, dtype=_dt.float32)
    return E.Div.apply(x, y)


def atan2(y, x):
    """Element-wise angle of the point (x, y) from the positive x axis, in [-pi, pi].

    Args:
        y: the y coordinates (tensor or scalar).
        x: the x coordinates; ``y`` and ``x`` broadcast against each other.

    Returns:
        a floating-point tensor of the broadcast shape; integer input computes in float32.

    Examples:
        >>> (F.atan2(Tensor([1., 1., -1.]), Tensor([1., -1., 0.])).numpy() / np.pi).round(4)
        array([ 0.25,  0.75, -0.5 ], dtype=float32)
    """
    y, x = E.operands(y, x)
    if y.dtype.kind != "f":
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
    if x.dtype.kind != "f" and any(isinstance(b, float) for b in (lower, upper)):
        x = E.Cast.apply(x, dtype=_dt.float32)
    return E.Clip.apply(x, lower=lower, upper=upper)


# The docstrings of the functions the factories above make, one per function (MegEngine's form).
_DOCS = {
    "add": """Element-wise addition: ``x + y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other (numpy's
            rules) and their dtypes are promoted to one.

    Returns:
        a tensor of the broadcast shape.

    Examples:
        >>> F.add(Tensor([1, 2, 3]), Tensor([10, 20, 30])).numpy()
        array([11, 22, 33], dtype=int32)
        >>> F.add(Tensor([[1.], [2.]]), 0.5).numpy()
        array([[1.5],
               [2.5]], dtype=float32)
    """,
    "sub": """Element-wise subtraction: ``x - y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other (numpy's
            rules) and their dtypes are promoted to one.

    Returns:
        a tensor of the broadcast shape.

    Examples:
        >>> F.sub(Tensor([5, 7, 9]), Tensor([1, 2, 3])).numpy()
        array([4, 5, 6], dtype=int32)
        >>> F.sub(Tensor([1., 2.]), Tensor([[1.], [2.]])).numpy()
        array([[ 0.,  1.],
               [-1.,  0.]], dtype=float32)
    """,
    "mul": """Element-wise multiplication: ``x * y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other (numpy's
            rules) and their dtypes are promoted to one.

    Returns:
        a tensor of the broadcast shape.

    Examples:
        >>> F.mul(Tensor([1, 2, 3]), Tensor([4, 5, 6])).numpy()
        array([ 4, 10, 18], dtype=int32)
        >>> F.mul(Tensor([1.5, 2.]), 2).numpy()
        array([3., 4.], dtype=float32)
    """,
    "floor_div": """Element-wise floor division: ``floor(x / y)``
    (Python's ``//``, rounding toward minus infinity).

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other (numpy's
            rules) and their dtypes are promoted to one.

    Returns:
        a tensor of the broadcast shape.

    Examples:
        >>> F.floor_div(Tensor([7, -7, 6]), Tensor([2, 2, 3])).numpy()
        array([ 3, -4,  2], dtype=int32)
        >>> F.floor_div(Tensor([7.5, -7.5]), 2).numpy()
        array([ 3., -4.], dtype=float32)
    """,
    "mod": """Element-wise remainder: ``x - floor_div(x, y) * y``
    (Python's ``%``: a non-zero result has the sign of ``y``).

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other (numpy's
            rules) and their dtypes are promoted to one.

    Returns:
        a tensor of the broadcast shape.

    Examples:
        >>> F.mod(Tensor([7, -7, 7]), Tensor([3, 3, -3])).numpy()
        array([ 1,  2, -2], dtype=int32)
        >>> F.mod(Tensor([5.5, 1.5]), 2.).numpy()
        array([1.5, 1.5], dtype=float32)
    """,
    "pow": """Element-wise power: ``x ** y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other (numpy's
            rules) and their dtypes are promoted to one.

    Returns:
        a tensor of the broadcast shape.

    Examples:
        >>> F.pow(Tensor([1., 2., 3.]), 2).numpy()
        array([1., 4., 9.], dtype=float32)
        >>> F.pow(Tensor([4., 9.]), Tensor([0.5, -1.])).numpy()
        array([2.        , 0.11111111], dtype=float32)
    """,
    "maximum": """Element-wise maximum: the larger of ``x`` and ``y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other (numpy's
            rules) and their dtypes are promoted to one.

    Returns:
        a tensor of the broadcast shape.

    Examples:
        >>> F.maximum(Tensor([1, 5, 3]), Tensor([4, 2, 3])).numpy()
        array([4, 5, 3], dtype=int32)
        >>> F.maximum(Tensor([-1., 0.5]), 0).numpy()
        array([0. , 0.5], dtype=float32)
    """,
    "minimum": """Element-wise minimum: the smaller of ``x`` and ``y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other (numpy's
            rules) and their dtypes are promoted to one.

    Returns:
        a tensor of the broadcast shape.

    Examples:
        >>> F.minimum(Tensor([1, 5, 3]), Tensor([4, 2, 3])).numpy()
        array([1, 2, 3], dtype=int32)
        >>> F.minimum(Tensor([-1., 0.5]), 0).numpy()
        array([-1.,  0.], dtype=float32)
    """,
    "equal": """Element-wise comparison ``x == y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> F.equal(Tensor([1, 2, 3]), Tensor([1, 0, 3])).numpy()
        array([ True, False,  True])
    """,
    "not_equal": """Element-wise comparison ``x != y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> F.not_equal(Tensor([1, 2, 3]), Tensor([1, 0, 3])).numpy()
        array([False,  True, False])
    """,
    "less": """Element-wise comparison ``x < y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> F.less(Tensor([1., 2., 3.]), 2).numpy()
        array([ True, False, False])
    """,
    "less_equal": """Element-wise comparison ``x <= y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> F.less_equal(Tensor([1., 2., 3.]), 2).numpy()
        array([ True,  True, False])
    """,
    "greater": """Element-wise comparison ``x > y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> F.greater(Tensor([1., 2., 3.]), 2).numpy()
        array([False, False,  True])
    """,
    "greater_equal": """Element-wise comparison ``x >= y``.

    Args:
        x: input tensor (or a scalar).
        y: input tensor (or a scalar); ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> F.greater_equal(Tensor([1., 2., 3.]), 2).numpy()
        array([False,  True,  True])
    """,
    "logical_and": """Element-wise logical and of two bool tensors.

    Args:
        x: a bool tensor.
        y: a bool tensor; ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> x = Tensor([True, True, False, False])
        >>> y = Tensor([True, False, True, False])
        >>> F.logical_and(x, y).numpy()
        array([ True, False, False, False])
    """,
    "logical_or": """Element-wise logical or of two bool tensors.

    Args:
        x: a bool tensor.
        y: a bool tensor; ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> x = Tensor([True, True, False, False])
        >>> y = Tensor([True, False, True, False])
        >>> F.logical_or(x, y).numpy()
        array([ True,  True,  True, False])
    """,
    "logical_xor": """Element-wise logical exclusive or of two bool tensors.

    Args:
        x: a bool tensor.
        y: a bool tensor; ``x`` and ``y`` broadcast against each other.

    Returns:
        a bool tensor of the broadcast shape.

    Examples:
        >>> x = Tensor([True, True, False, False])
        >>> y = Tensor([True, False, True, False])
        >>> F.logical_xor(x, y).numpy()
        array([False,  True,  True, False])
    """,
    "neg": """Element-wise negation, ``-x``.

    Args:
        x: input tensor.

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.neg(Tensor([1, -2, 0])).numpy()
        array([-1,  2,  0], dtype=int32)
    """,
    "abs": """Element-wise absolute value, ``|x|``.

    Args:
        x: input tensor.

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.abs(Tensor([-1.5, 0., 2.])).numpy()
        array([1.5, 0. , 2. ], dtype=float32)
        >>> F.abs(Tensor([-3, 3])).numpy()
        array([3, 3], dtype=int32)
    """,
    "sign": """Element-wise sign: -1 for negative, 0 for zero, 1 for positive elements.

    Args:
        x: input tensor.

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.sign(Tensor([-2.5, 0., 3.])).numpy()
        array([-1.,  0.,  1.], dtype=float32)
        >>> F.sign(Tensor([-7, 0, 2])).numpy()
        array([-1,  0,  1], dtype=int32)
    """,
    "isnan": """Element-wise test for NaN.

    Args:
        x: input tensor.

    Returns:
        a bool tensor of ``x``'s shape.

    Examples:
        >>> F.isnan(Tensor([1., float('nan'), float('inf')])).numpy()
        array([False,  True, False])
    """,
    "isinf": """Element-wise test for positive or negative infinity.

    Args:
        x: input tensor.

    Returns:
        a bool tensor of ``x``'s shape.

    Examples:
        >>> F.isinf(Tensor([1., float('nan'), -float('inf')])).numpy()
        array([False, False,  True])
    """,
    "logical_not": """Element-wise logical not of a bool tensor.

    Args:
        x: input tensor.

    Returns:
        a bool tensor of ``x``'s shape.

    Examples:
        >>> F.logical_not(Tensor([True, False])).numpy()
        array([False,  True])
    """,
    "exp": """Element-wise exponential, ``e ** x``.

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.exp(Tensor([0., 1., -1.])).numpy().round(4)
        array([1.    , 2.7183, 0.3679], dtype=float32)
    """,
    "expm1": """Element-wise ``exp(x) - 1``, accurate for small ``x``.

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.expm1(Tensor([1e-8, 1.])).numpy()
        array([9.9999999e-09, 1.7182819e+00], dtype=float32)
    """,
    "log": """Element-wise natural logarithm (NaN for negative ``x``, -inf at 0).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.log(Tensor([1., np.e, 0.5])).numpy().round(4)
        array([ 0.    ,  1.    , -0.6931], dtype=float32)
    """,
    "log1p": """Element-wise ``log(1 + x)``, accurate for small ``x``.

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.log1p(Tensor([0., 1e-8, 1.])).numpy()
        array([0.000000e+00, 1.000000e-08, 6.931472e-01], dtype=float32)
    """,
    "sqrt": """Element-wise square root (NaN for negative ``x``).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.sqrt(Tensor([0., 4., 2.])).numpy()
        array([0.       , 2.       , 1.4142135], dtype=float32)
    """,
    "rsqrt": """Element-wise reciprocal square root, ``1 / sqrt(x)``.

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.rsqrt(Tensor([1., 4., 0.25])).numpy()
        array([1. , 0.5, 2. ], dtype=float32)
    """,
    "sin": """Element-wise sine (radians).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.sin(Tensor([0., np.pi / 2, np.pi / 6])).numpy().round(4)
        array([0. , 1. , 0.5], dtype=float32)
    """,
    "cos": """Element-wise cosine (radians).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.cos(Tensor([0., np.pi, np.pi / 3])).numpy().round(4)
        array([ 1. , -1. ,  0.5], dtype=float32)
    """,
    "tan": """Element-wise tangent (radians).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.tan(Tensor([0., np.pi / 4, -np.pi / 4])).numpy()
        array([ 0.,  1., -1.], dtype=float32)
    """,
    "asin": """Element-wise inverse sine, in [-pi/2, pi/2] (NaN outside [-1, 1]).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.asin(Tensor([0., 1., 0.5])).numpy()
        array([0.       , 1.5707964, 0.5235988], dtype=float32)
    """,
    "acos": """Element-wise inverse cosine, in [0, pi] (NaN outside [-1, 1]).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.acos(Tensor([1., 0., -1.])).numpy()
        array([0.       , 1.5707964, 3.1415927], dtype=float32)
    """,
    "atan": """Element-wise inverse tangent, in (-pi/2, pi/2).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.atan(Tensor([0., 1., -1.])).numpy()
        array([ 0.       ,  0.7853982, -0.7853982], dtype=float32)
    """,
    "sinh": """Element-wise hyperbolic sine.

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.sinh(Tensor([0., 1., -1.])).numpy()
        array([ 0.       ,  1.1752012, -1.1752012], dtype=float32)
    """,
    "cosh": """Element-wise hyperbolic cosine.

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.cosh(Tensor([0., 1., -1.])).numpy().round(4)
        array([1.    , 1.5431, 1.5431], dtype=float32)
    """,
    "tanh": """Element-wise hyperbolic tangent, in (-1, 1).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.tanh(Tensor([0., 1., -1.])).numpy()
        array([ 0.       ,  0.7615942, -0.7615942], dtype=float32)
    """,
    "asinh": """Element-wise inverse hyperbolic sine.

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.asinh(Tensor([0., 1., -1.])).numpy()
        array([ 0.       ,  0.8813736, -0.8813736], dtype=float32)
    """,
    "acosh": """Element-wise inverse hyperbolic cosine (NaN for ``x < 1``).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.acosh(Tensor([1., 2., 10.])).numpy()
        array([0.      , 1.316958, 2.993223], dtype=float32)
    """,
    "atanh": """Element-wise inverse hyperbolic tangent (NaN outside [-1, 1]).

    Args:
        x: input tensor; integer input is computed in float32.

    Returns:
        a floating-point tensor of ``x``'s shape.

    Examples:
        >>> F.atanh(Tensor([0., 0.5, -0.5])).numpy()
        array([ 0.        ,  0.54930615, -0.54930615], dtype=float32)
    """,
    "ceil": """Element-wise ceiling: the smallest integer not less than ``x``.

    Args:
        x: input tensor; integer tensors are returned unchanged (as a copy).

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.ceil(Tensor([-2.5, -0.5, 0.5, 1.5, 2.7])).numpy()
        array([-2., -0.,  1.,  2.,  3.], dtype=float32)
        >>> F.ceil(Tensor([1, -2])).numpy()
        array([ 1, -2], dtype=int32)
    """,
    "floor": """Element-wise floor: the largest integer not greater than ``x``.

    Args:
        x: input tensor; integer tensors are returned unchanged (as a copy).

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.floor(Tensor([-2.5, -0.5, 0.5, 1.5, 2.7])).numpy()
        array([-3., -1.,  0.,  1.,  2.], dtype=float32)
        >>> F.floor(Tensor([1, -2])).numpy()
        array([ 1, -2], dtype=int32)
    """,
    "round": """Element-wise rounding to the nearest integer (halves round away from zero).

    Args:
        x: input tensor; integer tensors are returned unchanged (as a copy).

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.round(Tensor([-2.5, -0.5, 0.5, 1.5, 2.7])).numpy()
        array([-3., -1.,  1.,  2.,  3.], dtype=float32)
        >>> F.round(Tensor([1, -2])).numpy()
        array([ 1, -2], dtype=int32)
    """,
    "trunc": """Element-wise truncation toward zero.

    Args:
        x: input tensor; integer tensors are returned unchanged (as a copy).

    Returns:
        a tensor of ``x``'s shape and dtype.

    Examples:
        >>> F.trunc(Tensor([-2.5, -0.5, 0.5, 1.5, 2.7])).numpy()
        array([-2., -0.,  0.,  1.,  2.], dtype=float32)
        >>> F.trunc(Tensor([1, -2])).numpy()
        array([ 1, -2], dtype=int32)
    """,
}
for _name, _text in _DOCS.items():
    globals()[_name].__doc__ = _text
del _name, _text
