"""Normalisation functions (MegEngine's names and arguments): batch_norm, group_norm and
layer_norm, on fused native kernels (engine/ops/norm.py)."""
import numpy as np

from engine.ops import norm as N
from engine.ops import shape as S
from engine.ops.indexing import GetItem
from engine.ops.nn import PadConstant

from ._utils import as_tensor, check_float, keeps_format
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


@keeps_format
def batch_norm(inp, running_mean=None, running_var=None, weight=None, bias=None, *,
               training=False, momentum=0.9, eps=1e-5, inplace=True, compute_mode="default",
               param_dim="dim_1c11"):
    """Batch normalisation over every axis but the channel axis.

    Args:
        inp: (N, C) or (N, C, ...) float tensor (NCHW; param_dim="dim_111c" for channel-last).
        running_mean: running mean, shape (1, C, 1, 1) or (C,). Used to normalise when training
            is False; when training it is updated as MegEngine does:
            running = momentum * running + (1 - momentum) * batch. In place (tensor._reset)
            when inplace, else returned.
        running_var: running variance, as running_mean, updated with the unbiased batch
            variance.
        weight: per-channel scale (None: 1).
        bias: per-channel shift (None: 0).
        training: normalise with the batch statistics (biased variance) instead of the running
            ones.
        momentum: weight of the old running value (MegEngine's sense: 0.9 keeps 90%).
        eps: added to the variance.
        inplace: update running_mean and running_var in place (True) or return the new ones.
        compute_mode: "default" or "float32"; float32 accumulation is used either way.
        param_dim: "dim_1c11" (channels on axis 1) or "dim_111c" (channels last).

    Returns:
        the normalised tensor, or (output, new_running_mean, new_running_var) when training
        with running statistics and inplace is False.

    Examples:
        >>> x = Tensor([[1., 2.], [3., 6.]])
        >>> F.batch_norm(x, training=True).numpy().round(4)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
        >>> mean, var = F.zeros((1, 2)), F.ones((1, 2))
        >>> y = F.batch_norm(x, mean, var, training=True)
        >>> mean.numpy(), var.numpy()
        (array([[0.2, 0.4]], dtype=float32), array([[1.1, 1.7]], dtype=float32))
        >>> F.batch_norm(x, mean, var).numpy().round(4)
        array([[0.7628, 1.2271],
               [2.6697, 4.295 ]], dtype=float32)
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
            # one value per channel: the unbiased variance is 0/0, NaN (as MegEngine)
            bessel = per_channel / (per_channel - 1) if per_channel > 1 else float("nan")
            unbiased = var.detach() * bessel
            new_var = (running_var.detach() * momentum
                       + S.Reshape.apply(unbiased, shape=running_var.shape) * (1 - momentum))
    if not inplace:
        return out, new_mean, new_var
    for buf, new in ((running_mean, new_mean), (running_var, new_var)):
        if buf is not None and new is not buf:
            buf._reset(new)
    return out


def group_norm(inp, num_groups, affine=True, weight=None, bias=None, eps=1e-5):
    """Normalises each sample over groups of C / num_groups channels (and all
    spatial positions), then scales and shifts per channel.

    Args:
        inp: (N, C, ...) float tensor.
        num_groups: number of groups; must divide C.
        affine: apply weight and bias.
        weight: per-channel scale of shape (C,); None means 1.
        bias: per-channel shift of shape (C,); None means 0.
        eps: added to the (biased) variance.

    Returns:
        a tensor of ``inp``'s shape and dtype.

    Examples:
        >>> x = Tensor(np.array([1., 3., 2., 6., 0., 0., 5., 5.], "float32").reshape(1, 4, 1, 2))
        >>> y = F.group_norm(x, 2, affine=False)
        >>> y.shape
        (1, 4, 1, 2)
        >>> y[0, :, 0].numpy().round(4)
        array([[-1.069 ,  0.    ],
               [-0.5345,  1.6036],
               [-1.    , -1.    ],
               [ 1.    ,  1.    ]], dtype=float32)
        >>> w, b = Tensor([1., 2., 1., 1.]), F.ones(4)
        >>> F.group_norm(x, 4, affine=True, weight=w, bias=b)[0, :, 0].numpy().round(4)
        array([[ 0.,  2.],
               [-1.,  3.],
               [ 1.,  1.],
               [ 1.,  1.]], dtype=float32)
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
    """Normalises over the trailing dims ``normalized_shape``, then scales and shifts
    elementwise.

    Args:
        inp: float tensor whose trailing dims equal normalized_shape.
        normalized_shape: int or tuple of ints.
        affine: apply weight and bias.
        weight: elementwise scale of shape normalized_shape; None means 1.
        bias: elementwise shift of shape normalized_shape; None means 0.
        eps: added to the (biased) variance.

    Returns:
        a tensor of ``inp``'s shape and dtype.

    Examples:
        >>> x = Tensor([[1., 2., 3.], [2., 2., 2.]])
        >>> F.layer_norm(x, 3, affine=False).numpy().round(4)
        array([[-1.2247,  0.    ,  1.2247],
               [ 0.    ,  0.    ,  0.    ]], dtype=float32)
        >>> w, b = Tensor([1., 1., 2.]), Tensor([0., 1., 0.])
        >>> F.layer_norm(x, 3, affine=True, weight=w, bias=b).numpy().round(4)
        array([[-1.2247,  1.    ,  2.4495],
               [ 0.    ,  1.    ,  0.    ]], dtype=float32)
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


__all__ += ["instance_norm", "general_norm", "local_response_norm", "sync_batch_norm"]


def instance_norm(inp, affine, weight=None, bias=None, eps=1e-5):
    r"""Normalise each (sample, channel) plane over its spatial positions, then scale and shift
    per channel: group_norm with one group per channel.

    Args:
        inp: (N, C, ...) float tensor.
        affine: apply weight and bias; both must then be given.
        weight: per-channel scale, (C,) or (1, C, 1, 1).
        bias: per-channel shift, (C,) or (1, C, 1, 1).
        eps: added to the variance.

    Returns:
        the normalised tensor of inp's shape.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.array([[[1.0, 3.0]], [[2.0, 6.0]]], dtype=np.float32))
        >>> F.nn.instance_norm(x, affine=False, eps=0.0).numpy()
        array([[[-1.,  1.]],
        <BLANKLINE>
               [[-1.,  1.]]], dtype=float32)
    """
    fn = "instance_norm"
    inp = _float_input(inp, fn, 2)
    if affine and (weight is None or bias is None):
        raise ValueError(f"{fn}: weight and bias must be given when affine is True")
    c = inp.shape[1]
    w = _flat_param(weight if affine else None, c, "weight", fn, inp, 1.0)
    b = _flat_param(bias if affine else None, c, "bias", fn, inp, 0.0)
    out, _, _ = N.GroupNorm.apply(inp, w, b, groups=c, eps=float(eps))
    return out


def general_norm(inp, normalized_axis, affine=True, weight=None, bias=None, eps=1e-5):
    r"""Normalise over the axes ``normalized_axis`` (mean and biased variance over them), then
    scale and shift elementwise by weight and bias of the shape of those axes.

    Args:
        inp: float tensor.
        normalized_axis: an int or an increasing sequence of distinct axes (negative allowed).
        affine: apply weight and bias; both must then be given.
        weight: scale of shape ``[inp.shape[a] for a in normalized_axis]``.
        bias: shift of the same shape.
        eps: added to the variance.

    Returns:
        the normalised tensor of inp's shape.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32))
        >>> F.nn.general_norm(x, 0, affine=False, eps=0.0).numpy()
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
    """
    fn = "general_norm"
    inp = _float_input(inp, fn, 1)
    axes = list(normalized_axis) if isinstance(normalized_axis, (list, tuple)) \
        else [normalized_axis]
    if not axes:
        raise ValueError(f"{fn}: normalized_axis is empty")
    try:
        axes = [int(a) + inp.ndim if int(a) < 0 else int(a) for a in axes]
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: normalized_axis must hold ints, got {normalized_axis!r}") \
            from None
    if axes != sorted(set(axes)) or axes[-1] >= inp.ndim:
        raise ValueError(f"{fn}: normalized_axis {normalized_axis!r} must be increasing, distinct "
                         f"axes of a tensor with shape {inp.shape}")
    if affine and (weight is None or bias is None):
        raise ValueError(f"{fn}: weight and bias must be given when affine is True")
    ns = tuple(inp.shape[a] for a in axes)
    rest = [a for a in range(inp.ndim) if a not in axes]
    perm = tuple(rest + axes)  # normalised axes last: a (rows, features) view
    x = S.Transpose.apply(inp, pattern=perm) if perm != tuple(range(inp.ndim)) else inp
    m = int(np.prod(ns, dtype=np.int64))
    rows = int(np.prod([inp.shape[a] for a in rest], dtype=np.int64))
    w = _flat_param(weight if affine else None, m, "weight", fn, inp, 1.0, ns)
    b = _flat_param(bias if affine else None, m, "bias", fn, inp, 0.0, ns)
    out, _, _ = N.GroupNorm.apply(S.Reshape.apply(x, shape=(rows, m)), w, b, groups=1,
                                  eps=float(eps))
    out = S.Reshape.apply(out, shape=x.shape)
    if perm == tuple(range(inp.ndim)):
        return out
    back = tuple(perm.index(i) for i in range(inp.ndim))
    return S.Transpose.apply(out, pattern=back)


def local_response_norm(inp, kernel_size=5, k=2.0, alpha=1e-4, beta=0.75):
    r"""Local response normalisation across channels (MegEngine's LRN):
    ``out = x / (k + alpha * sum_{c' in window(c)} x_{c'}^2) ** beta``, the window being the
    kernel_size channels centred on c (cut at the edges). Unlike torch's, alpha is not divided
    by kernel_size.

    Args:
        inp: (N, C, ...) float tensor.
        kernel_size: odd window size over channels.
        k: additive constant.
        alpha: scale of the sum of squares.
        beta: exponent.

    Returns:
        the normalised tensor of inp's shape.

    Examples:
        >>> import numpy as np
        >>> inp = Tensor(np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2))
        >>> out = F.local_response_norm(inp, kernel_size=3, k=1.0, alpha=1e-4, beta=0.75)
        >>> out.numpy().round(4)
        array([[[[0.    , 0.9999],
                 [1.9994, 2.998 ]]]], dtype=float32)
    """
    fn = "local_response_norm"
    inp = _float_input(inp, fn, 2)
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1 \
            or kernel_size % 2 == 0:
        raise ValueError(f"{fn}: kernel_size must be a positive odd int, got {kernel_size!r}")
    half = kernel_size // 2
    c = inp.shape[1]
    sq = inp * inp
    pad = ((0, 0), (half, half)) + ((0, 0),) * (inp.ndim - 2)
    padded = PadConstant.apply(sq, pad_width=pad, value=0)
    window = None
    for i in range(kernel_size):  # sum of kernel_size shifted channel slices
        part = GetItem.apply(padded, index=(slice(None), slice(i, i + c)))
        window = part if window is None else window + part
    return inp * (window * float(alpha) + float(k)) ** (-float(beta))


def sync_batch_norm(inp, running_mean, running_var, weight=None, bias=None, training=False,
                    momentum=0.9, eps=1e-5, eps_mode="additive", group=None):
    r"""Synchronised batch normalisation. In one process (engine's distributed training is a
    separate issue) the statistics of the local batch are the global ones, so this is
    :func:`batch_norm`; ``group`` is accepted and has no effect.

    Args:
        inp: (N, C, ...) float tensor.
        running_mean: running mean (1, C, 1, 1), updated in place when training.
        running_var: running variance (1, C, 1, 1), updated in place when training.
        weight: per-channel scale (None: 1).
        bias: per-channel shift (None: 0).
        training: use and update the batch statistics.
        momentum: weight of the old running value (MegEngine's sense).
        eps: added to the variance ("additive") or its lower bound ("max").
        eps_mode: "additive" (var + eps) or "max" (max(var, eps)).
        group: the process group; no effect in one process.

    Returns:
        the normalised tensor.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.array([[1.0], [3.0]], dtype=np.float32))
        >>> rm, rv = Tensor(np.zeros((1, 1), "float32")), Tensor(np.ones((1, 1), "float32"))
        >>> F.nn.sync_batch_norm(x, rm, rv, training=True, eps=0.0).numpy()
        array([[-1.],
               [ 1.]], dtype=float32)
    """
    fn = "sync_batch_norm"
    if eps_mode not in ("additive", "max"):
        raise ValueError(f"{fn}: eps_mode must be 'additive' or 'max', got {eps_mode!r}")
    if eps_mode == "max":
        return _batch_norm_eps_max(inp, running_mean, running_var, weight, bias, training,
                                   momentum, eps)
    return batch_norm(inp, running_mean, running_var, weight, bias, training=training,
                      momentum=momentum, eps=eps)


def _batch_norm_eps_max(inp, running_mean, running_var, weight, bias, training, momentum, eps):
    """batch_norm with ``max(var, eps)`` in place of ``var + eps``, composed from reductions."""
    from .elemwise import maximum
    from .math import mean

    fn = "sync_batch_norm"
    inp = _float_input(inp, fn, 2)
    c = inp.shape[1]
    axes = (0,) + tuple(range(2, inp.ndim))
    stat_shape = (1, c) + (1,) * (inp.ndim - 2)
    if training:
        mu = mean(inp, axes, keepdims=True)
        var = mean((inp - mu) ** 2, axes, keepdims=True)
        n = inp.size // c
        if running_mean is not None:
            running_mean._reset(running_mean.detach() * momentum + S.Reshape.apply(
                mu.detach(), shape=running_mean.shape) * (1 - momentum))
        if running_var is not None and n > 1:
            running_var._reset(running_var.detach() * momentum + S.Reshape.apply(
                var.detach() * (n / (n - 1)), shape=running_var.shape) * (1 - momentum))
    else:
        mu = S.Reshape.apply(_flat_param(running_mean, c, "running_mean", fn, inp, 0.0),
                             shape=stat_shape)
        var = S.Reshape.apply(_flat_param(running_var, c, "running_var", fn, inp, 1.0),
                              shape=stat_shape)
    w = S.Reshape.apply(_flat_param(weight, c, "weight", fn, inp, 1.0), shape=stat_shape)
    b = S.Reshape.apply(_flat_param(bias, c, "bias", fn, inp, 0.0), shape=stat_shape)
    # float16/bfloat16 input: the statistics are float32 (F.mean, as MegEngine's reductions),
    # so the formula computes in float32; the output keeps the input's dtype (as MegEngine's)
    out = (inp - mu) * maximum(var, eps) ** -0.5 * w + b
    return out if out.dtype == inp.dtype else out.astype(inp.dtype)
