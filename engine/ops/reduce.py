"""Reductions. `axis` arrives normalised (None or a tuple of non-negative ints) from
engine.functional, which also checks its range."""
from .. import dtype as _dt
from .core import Op
from .elemwise import Cast, Equal, Where, _const
from .shape import BroadcastTo, Reshape


def _keep_shape(shape, axis):
    """Shape of the reduction with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


def _expand(dy, x, axis, keepdims):
    """dy reshaped to the keepdims shape of reducing x (so it broadcasts against x)."""
    ks = _keep_shape(x.shape, axis)
    return dy if keepdims or dy.shape == ks else Reshape.apply(dy, shape=ks)


def _acc_dtype(x):
    return x.dtype if x.dtype.kind == "f" else "int32"


# float16/bfloat16 accumulate in float32 and cast back (as MegEngine's kernels do)
_LOW = _dt._LOW_SET


class Sum(Op):
    def forward(xp, x, axis, keepdims):
        if x.dtype in _LOW:
            return xp.sum(x, axis=axis, keepdims=keepdims, dtype="float32").astype(x.dtype)
        return xp.sum(x, axis=axis, keepdims=keepdims, dtype=_acc_dtype(x))

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return BroadcastTo.apply(_expand(dy, x, ctx.attrs["axis"], ctx.attrs["keepdims"]),
                                 shape=x.shape)


class Prod(Op):
    def forward(xp, x, axis, keepdims):
        if x.dtype in _LOW:
            return xp.prod(x, axis=axis, keepdims=keepdims, dtype="float32").astype(x.dtype)
        return xp.prod(x, axis=axis, keepdims=keepdims, dtype=_acc_dtype(x))

    def backward(ctx, dy):
        # d prod / d x_i = product of the others; computed without dividing by zero.
        x = ctx.inputs[0]
        axis, keepdims = ctx.attrs["axis"], ctx.attrs["keepdims"]
        dy = _expand(dy, x, axis, keepdims)
        dev = x._storage.device
        one = _const(1, x.dtype, dev)
        zero = _const(0, x.dtype, dev)
        is_zero = Equal.apply(x, zero)
        n_zero = Sum.apply(Cast.apply(is_zero, dtype=x.dtype), axis=axis, keepdims=True)
        prod_nonzero = Prod.apply(Where.apply(is_zero, one, x), axis=axis, keepdims=True)
        safe_x = Where.apply(is_zero, one, x)
        no_zero = prod_nonzero / safe_x  # no zero in the group: prod / x_i
        one_zero = Where.apply(is_zero, prod_nonzero, zero)  # only the zero gets the rest
        g = Where.apply(Equal.apply(n_zero, zero), no_zero,
                        Where.apply(Equal.apply(n_zero, one), one_zero, zero))
        return dy * g


class _Extreme(Op):
    save_outputs = True

    def backward(ctx, dy):
        # The gradient is shared evenly among the elements equal to the extreme value.
        x = ctx.inputs[0]
        axis, keepdims = ctx.attrs["axis"], ctx.attrs["keepdims"]
        y = _expand(ctx.outputs[0], x, axis, keepdims)
        mask = Cast.apply(Equal.apply(x, y), dtype=dy.dtype)
        count = Sum.apply(mask, axis=axis, keepdims=True)
        return mask * (_expand(dy, x, axis, keepdims) / count)


class Max(_Extreme):
    def forward(xp, x, axis, keepdims):
        return xp.max(x, axis=axis, keepdims=keepdims)


class Min(_Extreme):
    def forward(xp, x, axis, keepdims):
        return xp.min(x, axis=axis, keepdims=keepdims)


class ArgMax(Op):
    differentiable = False

    def forward(xp, x, axis, keepdims):
        return xp.argmax(x, axis=axis, keepdims=keepdims).astype("int32")


class ArgMin(Op):
    differentiable = False

    def forward(xp, x, axis, keepdims):
        return xp.argmin(x, axis=axis, keepdims=keepdims).astype("int32")
