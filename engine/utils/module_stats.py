"""module_stats: MegEngine's per-layer table of parameters, FLOPs and activations.

One forward pass with hooks on the layers whose cost is known (convolutions, linear, batched
matmul, normalisations, pooling). The counting conventions are MegEngine's, so the totals agree
with numbers MegEngine users already have: a conv output element costs
Cin/groups * prod(kernel) multiply-adds (+1 with bias), a linear layer prod(out) * in_features
(+ out_features with bias), a normalisation 7 per input element, a pooling window its area.
One deliberate difference: an adaptive pool costs its real window (ceil(H/OH) * ceil(W/OW)) per
output element; MegEngine 1.13's formula reduces to 1 per output element whatever the window.
"""
import collections
import functools
import math
from collections import namedtuple

import numpy as np

from .. import functional as F
from ..tensor import Tensor

total_stats = namedtuple("total_stats", ["param_size", "param_dims", "flops", "act_size",
                                         "act_dims"])
total_stats.__doc__ = """The totals module_stats returns first: param_size (bytes), param_dims
(elements), flops, act_size (bytes), act_dims (elements).

Examples:
    >>> from engine.utils.module_stats import total_stats
    >>> total_stats(param_size=8, param_dims=2, flops=6, act_size=4, act_dims=1).flops
    6
"""
stats_details = namedtuple("module_stats", ["params", "flops", "activations"])
stats_details.__doc__ = """The per-layer rows module_stats returns second: params, flops and
activations, each a list of dicts (one per layer).

Examples:
    >>> from engine.utils.module_stats import stats_details
    >>> stats_details(params=[], flops=[], activations=[])
    module_stats(params=[], flops=[], activations=[])
"""


def _M():
    import engine.module as M

    return M


def _prod(shape):
    return int(np.prod(shape)) if len(shape) else 1


def _kernel_area(module):
    k = module.kernel_size
    return _prod(k) if isinstance(k, (tuple, list)) else k ** 2


def flops_conv(module, inputs, outputs):
    """FLOPs of a convolution layer, as MegEngine counts them: each output element costs
    in_channels / groups * kernel area multiply-adds, plus one for the bias.

    Args:
        module: the layer.
        inputs: its inputs (a list of tensors; the first is used).
        outputs: its outputs (likewise).

    Returns:
        the FLOPs, an int.

    Examples:
        >>> from engine.utils.module_stats import flops_conv
        >>> conv = M.Conv2d(3, 8, 3, padding=1)
        >>> x = Tensor(np.zeros((1, 3, 4, 4), "float32"))
        >>> flops_conv(conv, [x], [conv(x)])
        3584
    """
    bias = 1 if getattr(module, "bias", None) is not None else 0
    return _prod(outputs[0].shape) * (module.in_channels // module.groups *
                                      _prod(_as_tuple(module.kernel_size)) + bias)


def flops_conv_transpose(module, inputs, outputs):
    """FLOPs of a transposed convolution layer, as MegEngine counts them: each input element
    costs out_channels / groups * kernel area, plus one per output element for the bias.

    Args:
        module: the layer.
        inputs: its inputs (a list of tensors; the first is used).
        outputs: its outputs (likewise).

    Returns:
        the FLOPs, an int.

    Examples:
        >>> from engine.utils.module_stats import flops_conv_transpose
        >>> deconv = M.ConvTranspose2d(8, 3, 2, stride=2)
        >>> x = Tensor(np.zeros((1, 8, 4, 4), "float32"))
        >>> flops_conv_transpose(deconv, [x], [deconv(x)])
        1728
    """
    bias = 1 if getattr(module, "bias", None) is not None else 0
    return (_prod(inputs[0].shape) * (module.out_channels // module.groups *
                                      _prod(_as_tuple(module.kernel_size)))
            + _prod(outputs[0].shape) * bias)


def flops_norm(module, inputs, outputs):
    """FLOPs of a normalization layer, as MegEngine counts them: 7 per input element.

    Args:
        module: the layer.
        inputs: its inputs (a list of tensors; the first is used).
        outputs: its outputs (likewise).

    Returns:
        the FLOPs, an int.

    Examples:
        >>> from engine.utils.module_stats import flops_norm
        >>> bn = M.BatchNorm2d(8)
        >>> x = Tensor(np.zeros((1, 8, 4, 4), "float32"))
        >>> flops_norm(bn, [x], [bn(x)])
        896
    """
    return _prod(inputs[0].shape) * 7


def flops_pool(module, inputs, outputs):
    """FLOPs of a pooling layer, as MegEngine counts them: the kernel area per output element.

    Args:
        module: the layer.
        inputs: its inputs (a list of tensors; the first is used).
        outputs: its outputs (likewise).

    Returns:
        the FLOPs, an int.

    Examples:
        >>> from engine.utils.module_stats import flops_pool
        >>> pool = M.MaxPool2d(2)
        >>> x = Tensor(np.zeros((1, 8, 4, 4), "float32"))
        >>> flops_pool(pool, [x], [pool(x)])
        128
    """
    return _prod(outputs[0].shape) * _kernel_area(module)


def flops_adaptive_pool(module, inputs, outputs):
    """FLOPs of an adaptive pooling layer, as MegEngine counts them: per output element, the
    area of the window ceil(H / OH) x ceil(W / OW).

    Args:
        module: the layer.
        inputs: its inputs (a list of tensors; the first is used).
        outputs: its outputs (likewise).

    Returns:
        the FLOPs, an int.

    Examples:
        >>> from engine.utils.module_stats import flops_adaptive_pool
        >>> pool = M.AdaptiveAvgPool2d(1)
        >>> x = Tensor(np.zeros((1, 8, 4, 4), "float32"))
        >>> flops_adaptive_pool(pool, [x], [pool(x)])
        128
    """
    # the window an adaptive pool of the same input and output sizes would use
    h, w = inputs[0].shape[2:4]
    oh, ow = outputs[0].shape[2:4]
    return _prod(outputs[0].shape) * math.ceil(h / oh) * math.ceil(w / ow)


def flops_linear(module, inputs, outputs):
    """FLOPs of a Linear layer, as MegEngine counts them: in_features per output element,
    plus out_features once for the bias.

    Args:
        module: the layer.
        inputs: its inputs (a list of tensors; the first is used).
        outputs: its outputs (likewise).

    Returns:
        the FLOPs, an int.

    Examples:
        >>> from engine.utils.module_stats import flops_linear
        >>> linear = M.Linear(4, 2)
        >>> x = Tensor(np.zeros((3, 4), "float32"))
        >>> flops_linear(linear, [x], [linear(x)])
        26
    """
    bias = module.out_features if module.bias is not None else 0
    return _prod(outputs[0].shape) * module.in_features + bias


def flops_batch_matmul(module, inputs, outputs):
    """FLOPs of a BatchMatMulActivation layer, by MegEngine's formula: for an input
    (batch, n, p) and a weight whose last dim is m, ``n * (p + bias) * m * batch``.

    Args:
        module: the layer.
        inputs: its inputs (a list of tensors; the first is used).
        outputs: its outputs (likewise).

    Returns:
        the FLOPs, an int.

    Examples:
        >>> from engine.utils.module_stats import flops_batch_matmul
        >>> layer = M.BatchMatMulActivation(2, 4, 5)
        >>> x = Tensor(np.zeros((2, 4, 5), "float32"))
        >>> flops_batch_matmul(layer, [x], [layer(x)])
        192
    """
    bias = 1 if module.bias is not None else 0
    batch, n, p = inputs[0].shape
    m = module.weight.shape[-1]
    return n * (p + bias) * m * batch


def _as_tuple(k):
    return tuple(k) if isinstance(k, (tuple, list)) else (k,)


# (class names in engine.module, flops rule), most specific first. Names resolve at call time,
# so layers added later (or absent) are simply skipped.
_RULES = [
    (("ConvTranspose2d", "ConvTranspose3d"), flops_conv_transpose),
    (("Conv1d", "Conv2d", "Conv3d", "LocalConv2d", "DeformableConv2d"), flops_conv),
    (("BatchMatMulActivation",), flops_batch_matmul),
    (("Linear",), flops_linear),
    (("BatchNorm1d", "BatchNorm2d", "SyncBatchNorm", "GroupNorm", "LayerNorm", "InstanceNorm"),
     flops_norm),
    (("MaxPool2d", "AvgPool2d"), flops_pool),
    (("AdaptiveAvgPool2d", "AdaptiveMaxPool2d"), flops_adaptive_pool),
]


def register_hook_module(module):
    """Also record the activations (and weight/bias) of layers of type `module` (a Module
    subclass, or a list/tuple of them) in module_stats.

    Args:
        module: a Module subclass, or a list or tuple of them.

    Examples:
        >>> from engine.utils.module_stats import register_hook_module
        >>> class Scale(M.Module):
        ...     def forward(self, x):
        ...         return x * 2
        >>> register_hook_module(Scale)
        >>> register_hook_module(3)
        Traceback (most recent call last):
            ...
        TypeError: register_hook_module: expected a Module subclass or a list of them, got 3
    """
    if isinstance(module, (tuple, list)):
        for m in module:
            register_hook_module(m)
    elif isinstance(module, type) and issubclass(module, _M().Module):
        _hook_modules().append(module)
    else:
        raise TypeError(f"register_hook_module: expected a Module subclass or a list of them, "
                        f"got {module!r}")


_hook_list = None


def _hook_modules():
    """MegEngine's `hook_modules`: the layer types module_stats hooks (those with a cost rule,
    then the registered ones); one list, which register_hook_module extends."""
    global _hook_list
    if _hook_list is None:  # (the layer classes are imported on first use: engine.module
        _hook_list = [c for classes, _ in _rules() for c in classes]  # imports this module)
    return _hook_list


def __getattr__(name):
    if name == "hook_modules":
        return _hook_modules()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _rules():
    M = _M()
    out = []
    for names, rule in _RULES:
        classes = tuple(getattr(M, n) for n in names if hasattr(M, n))
        if classes:
            out.append((classes, rule))
    return out


def sizeof_fmt(num, suffix="B"):
    """A human-readable size: binary prefixes (Ki, Mi, ...) for bytes, decimal ones (K, M, ...)
    for any other suffix.

    Args:
        num: the number.
        suffix: the unit. Default: "B"

    Returns:
        a str with three decimals.

    Examples:
        >>> from engine.utils.module_stats import sizeof_fmt
        >>> sizeof_fmt(1536), sizeof_fmt(2.5e6, suffix="FLOPs")
        ('1.500 KiB', '2.500 MFLOPs')
    """
    scale, units = (1024.0, ["", "Ki", "Mi", "Gi", "Ti", "Pi"]) if suffix == "B" else \
        (1000.0, ["", "K", "M", "G", "T", "P"])
    for unit in units:
        if abs(num) < scale or unit == units[-1]:
            return f"{num:3.3f} {unit}{suffix}"
        num /= scale


def _bits(dtype):
    return np.dtype(dtype).itemsize * 8 if np.dtype(dtype) != np.bool_ else 1


def _param_stats(name, p):
    a = p.numpy().astype(np.float32)
    return {"name": name, "dtype": p.dtype, "shape": p.shape, "mean": f"{a.mean():.3g}",
            "std": f"{a.std():.3g}", "param_dim": _prod(p.shape), "nbits": _bits(p.dtype),
            "size": _prod(p.shape) * _bits(p.dtype) // 8}


def _activation_stats(name, cls, out, with_values):
    d = {"name": name, "class_name": cls, "dtype": out.dtype, "shape": out.shape,
         "act_dim": _prod(out.shape), "nbits": _bits(out.dtype),
         "size": _prod(out.shape) * _bits(out.dtype) // 8}
    if with_values:
        a = out.numpy().astype(np.float32)
        d["mean"], d["std"] = f"{a.mean():.3g}", f"{a.std():.3g}"
    return d


def _finish(rows, key, bar_length_max, suffix):
    """Cumulative column, percentage and bar per row, then a "total" row; returns the total."""
    total = sum(int(r[key]) for r in rows)
    biggest = max([r[key] for r in rows] + [0])
    cum = 0
    for r in rows:
        cum += int(r[key])
        r[f"{key}_cum"] = sizeof_fmt(cum, suffix)
        r["ratio"] = r[key] / total if total else 0.0
        r["percentage"] = f"{r['ratio'] * 100:.2f}%"
        r["bar"] = "#" * (int(r[key] / biggest * bar_length_max) if biggest else 0)
        r[key + "_str"] = sizeof_fmt(r[key], suffix)
    rows.append({"name": "total", key + "_str": sizeof_fmt(total, suffix)})  # as MegEngine's
    return total


def _table(title, rows, header):
    cells = [header] + [[str(r.get(h, "")) for h in header] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    rule = "  ".join("-" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells[1:]]
    return f"{title}\n" + "\n".join(lines + [rule])


def _as_tensors(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    if isinstance(x, collections.abc.Mapping):
        return {k: _as_tensors(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_as_tensors(v) for v in x))
    if isinstance(x, (list, tuple)):
        return [_as_tensors(v) for v in x]
    return Tensor(x, dtype=np.float32)


def module_stats(model, inputs=None, input_shapes=None, cal_params=True, cal_flops=True,
                 cal_activations=True, logging_to_stdout=True, bar_length_max=20):
    """Runs `model` once and reports its parameters, FLOPs and activations per layer.

    Args:
        model: the Module to measure (run once in eval mode; its training flag is restored).
        inputs: the inputs of that run (numpy arrays or Tensors, or a list of them); or
        input_shapes: shapes (one tuple or a list of tuples) of float32 zero inputs instead.
        cal_params: count the weights and biases of the measured layers.
        cal_flops: count FLOPs (MegEngine's conventions, see the module docstring).
        cal_activations: count the output elements and bytes of the measured layers.
        logging_to_stdout: print the tables and the summary.
        bar_length_max: width of the largest bar in the tables.

    Returns:
        ``(total_stats(param_size, param_dims, flops, act_size, act_dims),
        module_stats(params, flops, activations))``: totals (bytes, elements, FLOPs), then
        one dict per row of each table.

    Examples:
        >>> import engine.module as M
        >>> from engine.utils.module_stats import module_stats
        >>> net = M.Sequential(M.Conv2d(3, 8, 3, padding=1))
        >>> total, _ = module_stats(net, input_shapes=(1, 3, 4, 4), logging_to_stdout=False)
        >>> total.flops, total.param_dims, total.act_dims
        (3584, 224, 128)
    """
    with_values = inputs is not None
    if inputs is not None:
        inputs = _as_tensors(inputs if isinstance(inputs, (tuple, list)) else [inputs])
    elif input_shapes:
        if not isinstance(input_shapes[0], (tuple, list)):
            input_shapes = [input_shapes]
        inputs = [F.zeros(tuple(s), dtype=np.float32) for s in input_shapes]
    else:
        raise ValueError("module_stats: pass `inputs` or `input_shapes` to run the model with")

    rules = _rules()
    hooked = tuple(_hook_modules())
    params, flops, activations, seen = [], [], [], set()

    def hook(module, ins, outs, name):
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        cls = type(module).__name__
        if cal_flops:
            for classes, rule in rules:
                if isinstance(module, classes):
                    flops.append({"name": name, "class_name": cls,
                                  "input_shapes": [i.shape for i in ins],
                                  "output_shapes": [o.shape for o in outs],
                                  "flops": rule(module, ins, outs)})
                    break
        if cal_params:
            for attr, suffix in (("weight", "-w"), ("bias", "-b")):
                p = getattr(module, attr, None)
                if isinstance(p, Tensor) and id(p) not in seen:
                    seen.add(id(p))
                    params.append(_param_stats(name + suffix, p))
        if cal_activations:
            activations.append(_activation_stats(name, cls, outs[0], with_values))

    handles = [m.register_forward_hook(functools.partial(hook, name=n))
               for n, m in model.named_modules() if isinstance(m, hooked)]
    was_training = model.training
    model.eval()
    try:
        model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)

    total_param_size = total_param_dims = total_flops = total_act_size = total_act_dims = 0
    summary = {"#params": len(params)}
    report = []
    if cal_params:
        total_param_dims = sum(p["param_dim"] for p in params)
        total_param_size = _finish(params, "size", bar_length_max, "B")
        summary["total_param_dims"] = sizeof_fmt(total_param_dims, "")
        summary["total_param_size"] = sizeof_fmt(total_param_size)
        report.append(_table("param stats:", params, ["name", "dtype", "shape", "mean", "std",
                                                      "param_dim", "nbits", "size_str",
                                                      "size_cum", "percentage", "bar"]))
    if cal_flops:
        total_flops = _finish(flops, "flops", bar_length_max, "OPs")
        summary["total_flops"] = sizeof_fmt(total_flops, "OPs")
        report.append(_table("flops stats:", flops, ["name", "class_name", "input_shapes",
                                                     "output_shapes", "flops_str", "flops_cum",
                                                     "percentage", "bar"]))
    if cal_activations:
        total_act_dims = sum(a["act_dim"] for a in activations)
        total_act_size = _finish(activations, "size", bar_length_max, "B")
        summary["total_act_dims"] = sizeof_fmt(total_act_dims, "")
        summary["total_act_size"] = sizeof_fmt(total_act_size)
        header = ["name", "class_name", "dtype", "shape"] + (
            ["mean", "std"] if with_values else []) + ["nbits", "act_dim", "size_str",
                                                        "size_cum", "percentage", "bar"]
        report.append(_table("activations stats:", activations, header))
    if cal_flops and cal_params and total_param_size:
        summary["flops/param_size"] = f"{total_flops / total_param_size:3.3f}"
    if logging_to_stdout:
        rows = [{"item": k, "value": v} for k, v in summary.items()]
        print("\n\n".join(report + [_table("summary", rows, ["item", "value"])]))
    return (total_stats(param_size=total_param_size, param_dims=total_param_dims,
                        flops=total_flops, act_size=total_act_size, act_dims=total_act_dims),
            stats_details(params=params, flops=flops, activations=activations))
