"""Elemwise / ElemwiseMultiType / TypeCvt / Identity descriptors, computed with engine.functional.

Modes MegEngine has and engine does not compute (ERF, ERFINV, ERFC, ERFCINV, RMULH, the
fixed-point ElemwiseMultiType modes) exist as names so that descriptors can be built and
compared; applying them raises NotImplementedError naming the mode.
"""
import numpy as np

from ._base import OpDef, make_enum

_MODES = (
    "RELU ABS ACOS ASIN CEIL COS EXP EXPM1 FLOOR LOG LOG1P NEGATE SIGMOID SIN TANH ABS_GRAD ADD "
    "FLOOR_DIV MAX MIN MOD MUL POW SIGMOID_GRAD SUB SWITCH_GT0 TANH_GRAD TRUE_DIV LOG_SUM_EXP LT "
    "LEQ EQ SHL SHR COND_LEQ_MOV FUSE_MUL_ADD3 FUSE_MUL_ADD4 FUSE_ADD_RELU FUSE_ADD_SIGMOID "
    "FUSE_ADD_TANH FAST_TANH FAST_TANH_GRAD ROUND RMULH ATAN2 ERF ERFINV ERFC ERFCINV H_SWISH "
    "H_SWISH_GRAD FUSE_ADD_H_SWISH NOT AND OR XOR SILU SILU_GRAD GELU GELU_GRAD COND_LT_MOV NEQ "
    "ISNAN ISINF SINH COSH ASINH ACOSH ATANH TAN ASINH_GRAD ACOSH_GRAD ATANH_GRAD PRELU CLIP "
    "PRELU_GRAD SOFTPLUS SOFTPLUS_GRAD RELU6 RELU6_GRAD HSIGMOID HSIGMOID_GRAD LOGSIGMOID SQRT "
    "SQUARE SIGN"
).split()


def _table():
    """mode -> f(*tensors): the formula of each mode in engine.functional terms."""
    import engine.functional as F

    def gt0(x):
        return x > 0

    def sel(c, a, b):
        return F.where(c, a, b)

    def zeros(x):
        return F.zeros_like(x)

    sig = F.sigmoid
    return {
        "RELU": F.relu, "ABS": F.abs, "ACOS": F.acos, "ASIN": F.asin, "CEIL": F.ceil,
        "COS": F.cos, "EXP": F.exp, "EXPM1": F.expm1, "FLOOR": F.floor, "LOG": F.log,
        "LOG1P": F.log1p, "NEGATE": F.neg, "SIGMOID": sig, "SIN": F.sin, "TANH": F.tanh,
        "ABS_GRAD": lambda x, dy: sel(gt0(x), dy, -dy),
        "ADD": F.add, "FLOOR_DIV": F.floor_div, "MAX": F.maximum, "MIN": F.minimum,
        "MOD": F.mod, "MUL": F.mul, "POW": F.pow,
        "SIGMOID_GRAD": lambda y, dy: y * (1 - y) * dy,
        "SUB": F.sub,
        "SWITCH_GT0": lambda x, dy: sel(gt0(x), dy, zeros(dy)),
        "TANH_GRAD": lambda y, dy: (1 - y * y) * dy,
        "FAST_TANH_GRAD": lambda x, dy: (1 - F.tanh(x) ** 2) * dy,
        "TRUE_DIV": F.div, "LOG_SUM_EXP": F.logaddexp, "LT": F.less, "LEQ": F.less_equal,
        "EQ": F.equal, "NEQ": F.not_equal, "SHL": F.left_shift, "SHR": F.right_shift,
        "COND_LEQ_MOV": lambda a, b, c: sel(a <= b, c, zeros(c)),
        "COND_LT_MOV": lambda a, b, c: sel(a < b, c, zeros(c)),
        "FUSE_MUL_ADD3": lambda a, b, c: a * b + c,
        "FUSE_MUL_ADD4": lambda a, b, c, d: a * b + c * d,
        "FUSE_ADD_RELU": lambda a, b: F.relu(a + b),
        "FUSE_ADD_SIGMOID": lambda a, b: sig(a + b),
        "FUSE_ADD_TANH": lambda a, b: F.tanh(a + b),
        "FUSE_ADD_H_SWISH": lambda a, b: F.hswish(a + b),
        "FAST_TANH": F.tanh, "ROUND": F.round, "ATAN2": F.atan2, "H_SWISH": F.hswish,
        "H_SWISH_GRAD": lambda x, dy: sel(x < -3, zeros(dy), sel(x > 3, dy, (2 * x + 3) / 6 * dy)),
        "NOT": F.logical_not, "AND": F.logical_and, "OR": F.logical_or, "XOR": F.logical_xor,
        "SILU": F.silu,
        "SILU_GRAD": lambda x, dy: dy * sig(x) * (1 + x * (1 - sig(x))),
        "GELU": F.gelu,
        "GELU_GRAD": lambda x, dy: dy * (0.5 * (1 + _erf_tanh(x))
                                         + x * F.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)),
        "ISNAN": F.isnan, "ISINF": F.isinf, "SINH": F.sinh, "COSH": F.cosh, "ASINH": F.asinh,
        "ACOSH": F.acosh, "ATANH": F.atanh, "TAN": F.tan,
        "ASINH_GRAD": lambda x, dy: dy / F.sqrt(x * x + 1),
        "ACOSH_GRAD": lambda x, dy: dy / F.sqrt(x * x - 1),
        "ATANH_GRAD": lambda x, dy: dy / (1 - x * x),
        "PRELU": lambda x, w: sel(gt0(x), x, x * w),
        "CLIP": lambda x, lo, hi: F.minimum(F.maximum(x, lo), hi),
        "SOFTPLUS": F.softplus,
        "SOFTPLUS_GRAD": lambda x, dy: dy * sig(x),
        "RELU6": F.relu6,
        "RELU6_GRAD": lambda x, dy: sel((x > 0) & (x < 6), dy, zeros(dy)),
        "HSIGMOID": F.hsigmoid,
        "HSIGMOID_GRAD": lambda x, dy: sel((x > -3) & (x < 3), dy / 6, zeros(dy)),
        "LOGSIGMOID": F.logsigmoid, "SQRT": F.sqrt, "SQUARE": F.square, "SIGN": F.sign,
    }


def _erf_tanh(x):
    """erf(x / sqrt 2) through engine's exact gelu: gelu(x) = x/2 (1 + erf(x/sqrt 2))."""
    import engine.functional as F

    safe = F.where(x == 0, F.ones_like(x), x)
    return F.where(x == 0, F.zeros_like(x), 2 * F.gelu(safe) / safe - 1)


_TABLE = None


def _formula(mode):
    global _TABLE
    if _TABLE is None:
        _TABLE = _table()
    fn = _TABLE.get(str(mode))
    if fn is None:
        raise NotImplementedError(f"Elemwise: mode {mode} is not implemented in engine")
    return fn


def _as_tensors(inputs):
    from ....tensor import Tensor

    return [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]


class Elemwise(OpDef):
    """MegEngine's Elemwise(mode): one elementwise formula over broadcast inputs.

    Examples:
        >>> import engine as mge
        >>> from engine.core.ops.builtin import Elemwise
        >>> from engine.core._imperative_rt.core2 import apply
        >>> (y,) = apply(Elemwise(mode="fuse_mul_add3"), mge.tensor(2.), mge.tensor(3.),
        ...              mge.tensor(1.))
        >>> y.item()
        7.0
    """

    Mode = make_enum("Elemwise", _MODES)
    _attrs = ("mode",)
    _defaults = ("ADD",)

    def _check(self, name, value):
        return self.Mode(value)

    def _run(self, *inputs):
        return (_formula(self.mode)(*_as_tensors(inputs)),)


class ElemwiseMultiType(OpDef):
    """MegEngine's ElemwiseMultiType(mode, dtype): an elementwise formula whose output dtype
    differs from its inputs'. engine computes the float and bool-output modes (ISNAN, ISINF,
    EQ/NEQ/LT/LEQ and the FUSE_ADD_* / FUSE_MUL_ADD3 modes, cast to ``dtype``); the
    quantized-integer modes (QADD, QFUSE_*, ...) belong to quantization and raise
    NotImplementedError."""

    Mode = make_enum("ElemwiseMultiType", (
        "FUSE_MUL_ADD3_INT16x32x32x32 FUSE_MUL_ADD3_IXxF32xF32xI8 ROUND_SHR_SATURATE_IXxI8xI8 "
        "FUSE_ADD_RMULH_ROUND_SHR_SATURATE_INT16x16x16x8 "
        "FUSE_ADD_RMULH_ROUND_SHR_SATURATE_INT32x32x32x8 ROUND_SHR_SATURATE_IXxI8xI16 "
        "QADD QFUSE_ADD_RELU QMUL QMIN QMAX QSUB QTRUE_DIV QFUSE_ADD_SIGMOID QFUSE_ADD_TANH "
        "QRELU QABS QSIGMOID QEXP QTANH QFUSE_MUL_ADD3 QFAST_TANH QNEGATE QACOS QASIN QCEIL QCOS "
        "QEXPM1 QFLOOR QLOG QLOG1P QSIN QROUND QERF QERFINV QERFC QERFCINV QABS_GRAD QFLOOR_DIV "
        "QMOD QSIGMOID_GRAD QSWITCH_GT0 QTANH_GRAD QLT QLEQ QEQ QPOW QLOG_SUM_EXP QFAST_TANH_GRAD "
        "QATAN2 QCOND_LEQ_MOV QH_SWISH QFUSE_ADD_H_SWISH QH_SWISH_GRAD "
        "FUSE_MUL_ADD3_INT16xF32xF32xF32 "
        "MUL_INT16xF32xF32 FUSE_MUL_ADD3_UINT8xF32xF32xF32 QCOND_LT_MOV EQ NEQ LT LEQ ISNAN ISINF"
    ).split())
    _attrs = ("mode", "dtype")
    _defaults = ("EQ", "bool")

    def _check(self, name, value):
        if name == "mode":
            return self.Mode(value)
        return np.dtype(value) if not hasattr(value, "metadata") else value

    def _run(self, *inputs):
        mode = str(self.mode)
        if mode.startswith("Q") or "INT" in mode or "SATURATE" in mode or "UINT8" in mode:
            raise NotImplementedError(f"ElemwiseMultiType: mode {mode} is a quantized mode, not "
                                      f"computed by engine")
        out = _formula(mode)(*_as_tensors(inputs))
        return (out.astype(self.dtype) if out.dtype != self.dtype else out,)


class TypeCvt(OpDef):
    """MegEngine's TypeCvt(dtype): a cast (Tensor.astype)."""

    _attrs = ("dtype",)

    def _run(self, x):
        return (_as_tensors([x])[0].astype(self.dtype),)


class Identity(OpDef):
    """MegEngine's Identity: the input's value as a new tensor (gradient passes through)."""

    def _run(self, x):
        import engine.functional as F

        return (F.copy(x),)
