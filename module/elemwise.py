"""Elemwise: a layer that applies one of MegEngine's elementwise modes by name (the float
meaning of MegEngine's M.Elemwise; quantized modules swap it for their own)."""
import engine.functional as F

from .module import Module

__all__ = ["Elemwise"]


def _fuse(outer, inner):
    return lambda *xs: outer(inner(*xs))


# MegEngine's Elemwise.Mode names (case-insensitive) -> the float computation. The *_GRAD
# modes are internal to MegEngine's autodiff and have no place in a layer.
_MODES = {
    "relu": F.relu, "abs": F.abs, "acos": F.acos, "asin": F.asin, "ceil": F.ceil, "cos": F.cos,
    "exp": F.exp, "expm1": F.expm1, "floor": F.floor, "log": F.log, "log1p": F.log1p,
    "negate": F.neg, "sigmoid": F.sigmoid, "sin": F.sin, "tanh": F.tanh, "fast_tanh": F.tanh,
    "add": F.add, "floor_div": F.floor_div, "max": F.maximum, "min": F.minimum, "mod": F.mod,
    "mul": F.mul, "pow": F.pow, "sub": F.sub, "true_div": F.div, "lt": F.less,
    "leq": F.less_equal, "eq": F.equal, "neq": F.not_equal, "shl": F.left_shift,
    "shr": F.right_shift, "round": F.round, "atan2": F.atan2, "h_swish": F.hswish,
    "not": F.logical_not, "and": F.logical_and, "or": F.logical_or, "xor": F.logical_xor,
    "silu": F.silu, "gelu": F.gelu, "isnan": F.isnan, "isinf": F.isinf, "sinh": F.sinh,
    "cosh": F.cosh, "asinh": F.asinh, "acosh": F.acosh, "atanh": F.atanh, "tan": F.tan,
    "softplus": F.softplus, "relu6": F.relu6, "hsigmoid": F.hsigmoid,
    "logsigmoid": F.logsigmoid, "sqrt": F.sqrt, "square": F.square, "sign": F.sign,
    "prelu": F.prelu, "clip": F.clip, "log_sum_exp": F.logaddexp,
    "fuse_add_relu": _fuse(F.relu, F.add), "fuse_add_sigmoid": _fuse(F.sigmoid, F.add),
    "fuse_add_tanh": _fuse(F.tanh, F.add), "fuse_add_h_swish": _fuse(F.hswish, F.add),
    "fuse_mul_add3": lambda a, b, c: a * b + c,
    "fuse_mul_add4": lambda a, b, c, d: a * b + c * d,
    "switch_gt0": lambda x, y: F.where(x > 0, y, F.zeros_like(y)),
    "cond_leq_mov": lambda x, y, z: F.where(x <= y, z, F.zeros_like(z)),
    "cond_lt_mov": lambda x, y, z: F.where(x < y, z, F.zeros_like(z)),
}


class Elemwise(Module):
    r"""Apply the elementwise mode ``method`` to the inputs, e.g. ``M.Elemwise("add")(a, b)``
    or ``M.Elemwise("fuse_add_relu")(a, b)`` (relu(a + b)).

    Args:
        method: a MegEngine Elemwise mode name, case-insensitive ("add", "mul", "relu",
            "fuse_mul_add3", ...).

    Examples:
        >>> m = M.Elemwise("fuse_add_relu")
        >>> m(Tensor([1.0, -3.0]), Tensor([1.0, 1.0])).numpy()
        array([2., 0.], dtype=float32)
    """

    def __init__(self, method, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(method, str) or method.lower() not in _MODES:
            raise ValueError(f"Elemwise: unknown method {method!r}; expected one of "
                             f"{sorted(_MODES)}")
        self.method = method  # only the name is kept: the layer pickles with mge.save

    def forward(self, *inps):
        return _MODES[self.method.lower()](*inps)

    def _module_info_string(self):
        return f"method={self.method}"
