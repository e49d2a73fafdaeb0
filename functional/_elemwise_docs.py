"""The docstrings of the element-wise functions functional/elemwise.py makes with factories
(one per function, MegEngine's form); elemwise.py attaches them at import."""

DOCS = {
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
