"""The autocast state and MegEngine's per-op casting lists.

While autocast is enabled, the listed op classes get an `apply` that casts their floating inputs
first; when it is disabled again the override is deleted, so the ops are back to plain `Op.apply`
and the disabled path costs nothing (no check in the hot path of any op). The lists are
MegEngine 1.13's (imperative/src/impl/transformations/dtype_promote.cpp):

- low precision: convolution, its transpose (ConvolutionBackwardData) and matrix products run on
  `low_prec_dtype` inputs, accumulating in float32 (MegEngine sets compute_mode="float32");
- high precision: the elementwise functions that lose most in 16 bits (true division, exp, log,
  pow, sqrt, trigonometric and hyperbolic functions, softplus, log-sigmoid, ...) and layer/group
  normalisation run on `high_prec_dtype` inputs;
- batch norm: the input in low precision, weight and bias in high precision (output in low);
- every other op follows the dtypes of its inputs (so relu of a float16 tensor stays float16).

Backward formulas are not cast (engine.autodiff.grad_manager.backward_depth): a gradient has
the dtype of the value it is the gradient of, and the Cast ops autocast inserted carry it back
to the dtype of the original tensor (a float32 parameter gets a float32 gradient).
"""
from engine import dtype as _dt

enabled = False
low_prec_dtype = _dt.float16
high_prec_dtype = _dt.float32

# Op class names (engine.ops.REGISTRY). Names of ops that engine does not have (yet) are skipped
# when the casts are installed, so an op registered later under MegEngine's name joins its list.
LOW_PREC_OPS = (
    "Conv1d", "Conv2d", "Conv3d", "Conv2dBackwardData", "ConvTranspose3d", "Matmul",
    "BatchedMatmul", "DeformableConv2d", "LocalConv2d", "RegionRestrictedConv",
)
HIGH_PREC_OPS = (
    "Div", "Exp", "Pow", "Log", "Expm1", "Log1p", "Acos", "Asin", "Atan2", "Cos", "Sin",
    "LogSumExp", "Tan", "Asinh", "Acosh", "Atanh", "Sinh", "Cosh", "Softplus", "Hsigmoid",
    "LogSigmoid", "Sqrt", "LayerNorm", "GroupNorm",
    # engine fuses log_softmax into one op; MegEngine computes it as x - logsumexp(x), whose
    # exp and log run in high precision
    "LogSoftmax",
)
# (dtype role of input 0, role of the other inputs)
MIXED_PREC_OPS = {"BatchNorm": ("low", "high")}

_installed = {}  # op class -> the `apply` it had in its own __dict__ (None: inherited)


def target(role):
    return low_prec_dtype if role == "low" else high_prec_dtype


def set_dtype(role, dtype):
    """Set low_prec_dtype or high_prec_dtype to a floating engine dtype."""
    global low_prec_dtype, high_prec_dtype
    d = _dt.canonical(dtype)
    if not _dt.is_float(d):
        raise TypeError(f"amp.{role}_prec_dtype: expected a floating dtype (one of "
                        f"{[str(f) for f in _dt.FLOATS]}), got {d}")
    if role == "low":
        low_prec_dtype = d
    else:
        high_prec_dtype = d


def set_enabled(flag):
    """Turn the per-op casts on or off (install or remove the `apply` overrides)."""
    global enabled
    flag = bool(flag)
    if flag and not _installed:
        _install()
    elif not flag and _installed:
        _uninstall()
    enabled = flag


def _cast(t, dtype, Cast):
    d = t._storage.array.dtype
    if d == dtype or not _dt.is_float(d):
        return t  # integer and bool inputs (indices, masks) keep their dtype
    return Cast.apply(t, dtype=dtype)


def _casting_apply(owner, plain_apply, first_role, rest_role):
    """An `apply` that casts the floating inputs (first / others by role), then runs the op."""
    from engine.autodiff import grad_manager as autodiff
    from engine.ops.elemwise import Cast

    def apply(cls, *inputs, **attrs):
        # (a subclass of a listed op inherits this override but is not on the list itself)
        if autodiff.backward_depth == 0 and inputs and cls is owner:
            first, rest = target(first_role), target(rest_role)
            inputs = (_cast(inputs[0], first, Cast),) + tuple(
                _cast(t, rest, Cast) for t in inputs[1:])
        return plain_apply(cls, *inputs, **attrs)

    return classmethod(apply)


def _install():
    from engine.ops import REGISTRY, core

    roles = {n: ("low", "low") for n in LOW_PREC_OPS}
    roles.update({n: ("high", "high") for n in HIGH_PREC_OPS})
    roles.update(MIXED_PREC_OPS)
    for name, (first, rest) in roles.items():
        cls = REGISTRY.get(name)
        if cls is None:
            continue
        _installed[cls] = cls.__dict__.get("apply")
        cls.apply = _casting_apply(cls, cls.apply.__func__, first, rest)
    if _installed:  # (paired with _uninstall, which set_enabled calls only when installed)
        core.apply_hooks += 1  # the positional op entries now go through cls.apply


def _uninstall():
    from engine.ops import core

    for cls, own in _installed.items():
        if own is None:
            del cls.apply  # back to the inherited Op.apply
        else:
            cls.apply = own
    _installed.clear()
    core.apply_hooks -= 1


def casting_ops():
    """{op name: (role of input 0, role of the other inputs)} for the ops engine has."""
    from engine.ops import REGISTRY

    out = {n: ("low", "low") for n in LOW_PREC_OPS if n in REGISTRY}
    out.update({n: ("high", "high") for n in HIGH_PREC_OPS if n in REGISTRY})
    out.update({n: r for n, r in MIXED_PREC_OPS.items() if n in REGISTRY})
    return out


# MegEngine's engine.core.tensor.amp accessors (its C++ bindings), for code that imports them.
def _get_amp_dtype_autocast():
    return enabled


def _set_amp_dtype_autocast(flag):
    set_enabled(flag)


def _get_amp_high_prec_dtype():
    return str(high_prec_dtype)


def _set_amp_high_prec_dtype(dtype):
    set_dtype("high", dtype)


def _get_amp_low_prec_dtype():
    return str(low_prec_dtype)


def _set_amp_low_prec_dtype(dtype):
    set_dtype("low", dtype)
