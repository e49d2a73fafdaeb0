"""Normalisation functions (MegEngine's names and arguments): batch_norm, group_norm and
layer_norm, on fused native kernels (engine/ops/norm.py)."""
import numpy as np

from engine.ops import norm as N
from engine.ops import shape as S

from ._utils import as_tensor, check_float
from .tensor import full

__all__ = ["batch_norm", "group_norm", "layer_norm"]


def _float_input(x, fn, min_ndim):
    x = as_tensor(x, fn)
    check_float(x, fn)
    if x.ndim < min_ndim:
        raise ValueError(f"{fn}: expected an input with at least {min_ndim} dims, got shape "
                         f"{x.shape}")
    return x


def _flat_param(p, size, name, fn, inp, default, shape=None):
    """A parameter as a 1-D tensor of `size` values; `default` fills in for None. Its shape must
    be `shape` or (size,) when given, else (size,) with any number of 1s around, e.g. (1, C, 1, 1).
    """
    if p is None:
        return full((size,), default, dtype="float32", device=inp.device)
    p = as_tensor(p, fn, like=inp)
    check_float(p, fn)
    if shape is not None:
        ok = p.shape in (shape, (size,))
    else:
        ok = p.size == size and len([d for d in p.shape if d != 1]) <= 1
    if not ok:
        want = f"{shape} or ({size},)" if shape is not None else f"({size},) or (1, {size}, 1, 1)"
        raise ValueError(f"{fn}: {name} of shape {p.shape} does not fit input of shape "
                         f"{inp.shape}: expected {want}")
    return p if p.shape == (size,) else S.Reshape.apply(p, shape=(size,))


def batch_norm(inp, running_mean=None, running_var=None, weight=None, bias=None, *,
               training=False, momentum=0.9, eps=1e-5, inplace=True, compute_mode="default",
               param_dim="dim_1c11"):
    """Batch normalisation over every axis but the channel axis.

    Args:
        inp: (N, C) or (N, C, ...) float tensor (NCHW; param_dim="dim_111c" for channel-last).
        running_mean, running_var: running statistics, shape (1, C, 1, 1) or (C,). Used to
            normalise when training is False; when training they are updated as MegEngine does:
            running = momentum * running + (1 - momentum) * batch, with the unbiased batch
            variance for running_var. In place (tensor._reset) when inplace, else returned.
        weight, bias: per-channel scale and shift (None: 1 and 0).
        training: normalise with the batch statistics (biased variance) instead of the running
            ones.
        momentum: weight of the old running value (MegEngine's sense: 0.9 keeps 90%).
        eps: added to the variance.
        compute_mode: "default" (float32 accumulation is used either way).

    Returns:
        The normalised tensor, or (output, new_running_mean, new_running_var) when training
        with running statistics and inplace is False.
    """
    fn = "batch_norm"
    inp = _float_input(inp, fn, 2)
    if param_dim not in ("dim_1c11", "dim_111c"):
        raise ValueError(f"{fn}: param_dim must be 'dim_1c11' or 'dim_111c', got {param_dim!r}")
    if compute_mode not in ("default", "float32"):
        raise ValueError(f"{fn}: compute_mode must be 'default' or 'float32', got "
                         f"{compute_mode!r}")
    if param_dim == "dim_111c":  # channel-last: move C to axis 1 and back
        to_first = (0, inp.ndim - 1) + tuple(range(1, inp.ndim - 1))
        back = (0,) + tuple(range(2, inp.ndim)) + (1,)
        out = batch_norm(S.Transpose.apply(inp, pattern=to_first), running_mean, running_var,
                         weight, bias, training=training, momentum=momentum, eps=eps,
                         inplace=inplace)
        if isinstance(out, tuple):
            return (S.Transpose.apply(out[0], pattern=back),) + out[1:]
        return S.Transpose.apply(out, pattern=back)

    c = inp.shape[1]
    w = _flat_param(weight, c, "weight", fn, inp, 1.0)
    b = _flat_param(bias, c, "bias", fn, inp, 0.0)
    stat_shape = (1, c) + (1,) * (inp.ndim - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(f"{fn}: running_mean and running_var are required when training is "
                             "False")
        rm = S.Reshape.apply(_flat_param(running_mean, c, "running_mean", fn, inp, 0.0),
                             shape=stat_shape)
        rv = S.Reshape.apply(_flat_param(running_var, c, "running_var", fn, inp, 1.0),
                             shape=stat_shape)
        # A per-channel affine map: (x - rm) / sqrt(rv + eps) * w + b = x * scale + shift.
        scale = S.Reshape.apply(w, shape=stat_shape) * (rv + eps) ** -0.5
        shift = S.Reshape.apply(b, shape=stat_shape) - rm * scale
        if scale.dtype != inp.dtype:  # float16 input, float32 statistics: output in float16
            scale, shift = scale.astype(inp.dtype), shift.astype(inp.dtype)
        return inp * scale + shift

    per_channel = inp.size // c if c else 0
    if per_channel == 1:
        raise ValueError(f"{fn}: expected more than 1 value per channel when training, got "
                         f"input of shape {inp.shape}")
    out, mean, var = N.BatchNorm.apply(inp, w, b, eps=float(eps))
    if running_mean is None and running_var is None:
        return out
    new_mean = new_var = None
    if per_channel == 0:  # empty batch: nothing to average in (as PyTorch)
        new_mean, new_var = running_mean, running_var
    else:
        # Outside the autograd graph: the running statistics are buffers, not activations.
        if running_mean is not None:
            new_mean = (running_mean.detach() * momentum
                        + S.Reshape.apply(mean.detach(), shape=running_mean.shape)
                        * (1 - momentum))
        if running_var is not None:
            unbiased = var.detach() * (per_channel / (per_channel - 1))
            new_var = (running_var.detach() * momentum
                       + S.Reshape.apply(unbiased, shape=running_var.shape) * (1 - momentum))
    if not inplace:
        return out, new_mean, new_var
    for buf, new in ((running_mean, new_mean), (running_var, new_var)):
        if buf is not None and new is not buf:
            buf._reset(new)
    return out


def group_norm(inp, num_groups, affine=True, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over groups of C / num_groups channels (and all spatial positions),
    then scale and shift per channel.

    Args:
        inp: (N, C, ...) float tensor.
        num_groups: number of groups; must divide C.
        affine: apply weight and bias (each (C,), None meaning 1 and 0).
        eps: added to the variance.
    """
    fn = "group_norm"
    inp = _float_input(inp, fn, 2)
    c = inp.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)):
        raise TypeError(f"{fn}: num_groups must be an int, got {num_groups!r}")
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"{fn}: num_groups ({num_groups}) must be positive and divide the "
                         f"number of channels ({c}) of input shape {inp.shape}")
    w = _flat_param(weight if affine else None, c, "weight", fn, inp, 1.0)
    b = _flat_param(bias if affine else None, c, "bias", fn, inp, 0.0)
    out, _, _ = N.GroupNorm.apply(inp, w, b, groups=int(num_groups), eps=float(eps))
    return out


def layer_norm(inp, normalized_shape, affine=True, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing dims `normalized_shape`, then scale and shift elementwise.

    Args:
        inp: float tensor whose trailing dims equal normalized_shape.
        normalized_shape: int or tuple of ints.
        affine: apply weight and bias (each of normalized_shape, None meaning 1 and 0).
        eps: added to the variance.
    """
    fn = "layer_norm"
    inp = _float_input(inp, fn, 1)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not ns or inp.shape[inp.ndim - len(ns):] != ns:
        raise ValueError(f"layer_norm: normalized_shape {ns} does not match the trailing dims "
                         f"of input shape {inp.shape}")
    m = int(np.prod(ns, dtype=np.int64))
    rows = inp.size // m if m else int(np.prod(inp.shape[:inp.ndim - len(ns)], dtype=np.int64))
    w = _flat_param(weight if affine else None, m, "weight", fn, inp, 1.0, ns)
    b = _flat_param(bias if affine else None, m, "bias", fn, inp, 0.0, ns)
    # Layer norm is group norm of the (rows, features) view with a single group.
    out, _, _ = N.GroupNorm.apply(S.Reshape.apply(inp, shape=(rows, m)), w, b, groups=1,
                                  eps=float(eps))
    return S.Reshape.apply(out, shape=inp.shape)
