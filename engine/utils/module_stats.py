"""module_stats: MegEngine's per-layer table of parameters, FLOPs and activations.

One forward pass with hooks on the model's layers records, for every layer that ran, its input
and output shapes, its FLOPs (formula per layer type, below), its weight/bias statistics and the
size of its first output. Tables go to the "engine.utils.module_stats" logger.

FLOPs count multiply-adds as one op, as MegEngine does: conv = output elements x (Cin/groups x
kernel area + bias); linear = output elements x in_features (+ out_features with bias); norms =
7 per input element; pooling = output elements x window area; element-wise layers (activations)
= one per output element (MegEngine leaves those out of its table; engine lists them).
"""
import collections
import contextlib
import functools
import math
from collections import namedtuple

import numpy as np

from .. import functional as F
from .. import module as M
from ..core.tensor.dtype import get_dtype_bit
from ..logger import get_logger
from ..tensor import Tensor

__all__ = ["module_stats", "register_flops", "register_hook_module", "sizeof_fmt"]

logger = get_logger(__name__)
logger.setLevel("INFO")

_calc_flops_dict = {}

total_stats = namedtuple("total_stats",
                         ["param_size", "param_dims", "flops", "act_size", "act_dims"])
stats_details = namedtuple("module_stats", ["params", "flops", "activations"])


def _layers(*names):
    """The engine.module classes of these names that exist (layers added later join in)."""
    return tuple(getattr(M, n) for n in names if hasattr(M, n))


def register_flops(*modules):
    """Decorator: ``fn(module, inputs, outputs) -> flops`` counts the FLOPs of these classes."""
    def callback(impl):
        for m in modules:
            _calc_flops_dict[m] = impl
        return impl

    return callback


@register_flops(*_layers("Conv1d", "Conv2d", "Conv3d", "LocalConv2d", "DeformableConv2d"))
def flops_convNd(module, inputs, outputs):
    bias = 1 if module.bias is not None else 0
    # N x Cout x H x W x (Cin / groups x Kh x Kw + bias)
    return np.prod(outputs[0].shape) * (
        float(module.in_channels // module.groups) * np.prod(module.kernel_size) + bias)


@register_flops(*_layers("ConvTranspose2d", "ConvTranspose3d"))
def flops_convNdTranspose(module, inputs, outputs):
    bias = 1 if module.bias is not None else 0
    # every input element is spread over Cout / groups x kernel area outputs
    return (np.prod(inputs[0].shape) * (module.out_channels // module.groups
                                        * np.prod(module.kernel_size))
            + np.prod(outputs[0].shape) * bias)


@register_flops(*_layers("BatchNorm1d", "BatchNorm2d", "SyncBatchNorm", "GroupNorm",
                         "LayerNorm", "InstanceNorm"))
def flops_norm(module, inputs, outputs):
    return np.prod(inputs[0].shape) * 7


@register_flops(*_layers("AvgPool2d", "MaxPool2d"))
def flops_pool(module, inputs, outputs):
    k = module.kernel_size
    kernel_area = np.prod(k) if isinstance(k, (tuple, list)) else k ** 2
    return np.prod(outputs[0].shape) * kernel_area


@register_flops(*_layers("AdaptiveAvgPool2d", "AdaptiveMaxPool2d"))
def flops_adaptive_pool(module, inputs, outputs):
    # the largest window adaptive pooling uses along each axis: ceil(in / out)
    (h, w), (oh, ow) = inputs[0].shape[-2:], outputs[0].shape[-2:]
    return np.prod(outputs[0].shape) * math.ceil(h / oh) * math.ceil(w / ow)


@register_flops(M.Linear)
def flops_linear(module, inputs, outputs):
    bias = module.out_features if module.bias is not None else 0
    return np.prod(outputs[0].shape) * module.in_features + bias


@register_flops(*_layers("ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softmax", "PReLU",
                         "ReLU6", "Elemwise"))
def flops_elementwise(module, inputs, outputs):
    return np.prod(outputs[0].shape)


hook_modules = list(_calc_flops_dict)


def register_hook_module(module):
    """Adds a layer class (or a list/tuple of them) whose calls get a row in the tables; give
    it a FLOPs formula with :func:`register_flops`."""
    if isinstance(module, (tuple, list)):
        for m in module:
            register_hook_module(m)
    elif isinstance(module, type) and issubclass(module, M.Module):
        hook_modules.append(module)
    else:
        raise TypeError("the param type should in [list,tuple,M.Module]")


def sizeof_fmt(num, suffix="B"):
    """A number with a binary (bytes, suffix "B") or decimal unit: sizeof_fmt(2048) ==
    "2.000 KiB"."""
    scale, units = ((1024.0, ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"])
                    if suffix == "B" else (1000.0, ["", "K", "M", "G", "T", "P", "E", "Z", "Y"]))
    for unit in units:
        if abs(num) < scale or unit == units[-1]:
            return "{:3.3f} {}{}".format(num, unit, suffix)
        num /= scale


def _table(rows, header):
    """rows of dicts as a text table with a dashed rule under the header (tabulate's look)."""
    cells = [[str(h) for h in header]] + [[str(d.get(h, "")) for h in header] for d in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([rule, line(cells[0]), rule] + [line(r) for r in cells[1:]] + [rule])


def _stat(x, fn):
    return "{:.3g}".format(float(fn(np.asarray(x.numpy(), np.float32))))


def _param_stats(p):
    nbits = get_dtype_bit(np.dtype(p.dtype).name)
    dims = int(np.prod(p.shape))
    return {"dtype": np.dtype(p.dtype), "shape": p.shape, "mean": _stat(p, np.mean),
            "std": _stat(p, np.std), "param_dim": dims, "nbits": nbits, "size": dims * nbits // 8}


def _activation_stats(out, has_input):
    nbits = get_dtype_bit(np.dtype(out.dtype).name)
    dims = int(np.prod(out.shape))
    d = {"dtype": np.dtype(out.dtype), "shape": out.shape, "act_dim": dims, "nbits": nbits,
         "size": dims * nbits // 8}
    if has_input:
        d["mean"], d["std"] = _stat(out, np.mean), _stat(out, np.std)
    return d


def _summarize(rows, key, bar_length_max, total_row, suffix="B"):
    """Cumulative, percentage and bar columns over rows[key]; appends the total row."""
    peak = max([d[key] for d in rows] + [0])
    total = sum(int(d[key]) for d in rows)
    running = 0
    for d in rows:
        running += int(d[key])
        d[key + "_cum" if key != "size" else "size_cum"] = sizeof_fmt(running, suffix)
    for d in rows:
        d["ratio"] = d[key] / total if total else 0.0
        d["percentage"] = "{:.2f}%".format(d["ratio"] * 100)
        d["size_bar" if key == "size" else "bar"] = "#" * (
            int(d[key] / peak * bar_length_max) if peak else 0)
    rows.append(total_row)
    return total


@contextlib.contextmanager
def _eval_mode(model):
    """Every sub-module in eval mode for the block, each restored to its own mode after."""
    saved = {m: m.training for m in model.modules()}
    for m in saved:
        m.train(False, recursive=False)
    try:
        yield
    finally:
        for m, mode in saved.items():
            m.training = mode


@contextlib.contextmanager
def _record_param_reads(names, record):
    """Record a sub-module's weight/bias when forward code reads it (`self.conv.weight` used
    without calling `self.conv`), for the block only: Module.__getattribute__ is patched and
    then restored, so normal runs pay nothing."""
    if record is None:
        yield
        return
    plain = M.Module.__dict__.get("__getattribute__")

    def getattribute(module, item):
        value = object.__getattribute__(module, item)
        if item in ("weight", "bias") and value is not None and id(module) in names:
            record(value, names[id(module)] + ("-w" if item == "weight" else "-b"))
        return value

    M.Module.__getattribute__ = getattribute
    try:
        yield
    finally:
        if plain is None:
            del M.Module.__getattribute__
        else:
            M.Module.__getattribute__ = plain


def _to_tensors(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    if isinstance(x, collections.abc.Mapping):
        return {k: _to_tensors(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuple
        return type(x)(*(_to_tensors(v) for v in x))
    if isinstance(x, collections.abc.Sequence):
        return [_to_tensors(v) for v in x]
    return Tensor(x, dtype=np.float32)


def module_stats(model, inputs=None, input_shapes=None, cal_params=True, cal_flops=True,
                 cal_activations=True, logging_to_stdout=True, bar_length_max=20):
    r"""Calculate and print ``model``'s statistics by adding hook and record Module's inputs
    outputs size.

    The model runs once, in eval mode (each module's mode is restored after).

    Args:
        model: model that need to get stats info.
        inputs: user defined input data for running model and calculating stats, alternative
            with input_shapes.
        input_shapes: shapes to generate random inputs for running model and calculating
            stats, alternative with inputs (zeros of these shapes).
        cal_params: whether calculate and record params size.
        cal_flops: whether calculate and record op flops.
        cal_activations: whether calculate and record op activations.
        logging_to_stdout: whether print all calculated statistic details.
        bar_length_max: size of bar indicating max flops or parameter size in net stats.

    Returns:
        ``(total_stats(param_size, param_dims, flops, act_size, act_dims),
        module_stats(params, flops, activations))``: the totals (bytes, counts, FLOPs) and the
        rows of each table (dicts, the last one the total); None without inputs.

    Examples:
        >>> import engine.module as M
        >>> from engine.utils.module_stats import module_stats
        >>> total, _ = module_stats(M.Conv2d(3, 8, 3), input_shapes=[(1, 3, 8, 8)],
        ...                         logging_to_stdout=False)
        >>> int(total.flops), int(total.param_dims)
        (8064, 224)
    """
    has_inputs = inputs is not None
    if has_inputs:
        inputs = _to_tensors(inputs if isinstance(inputs, (tuple, list)) else [inputs])
    elif input_shapes:
        if not isinstance(input_shapes[0], (tuple, list)):
            input_shapes = [input_shapes]
        inputs = [F.zeros(tuple(s), dtype=np.float32) for s in input_shapes]
    else:
        logger.error("Inputs or input_shapes is required for running model and calculating "
                     "stats.")
        return None

    params, flops, activations, recorded = [], [], [], set()
    hooked = tuple(hook_modules)

    def record_param(p, name):
        if p is not None and id(p) not in recorded:
            recorded.add(id(p))
            row = _param_stats(p)
            row["name"] = name
            params.append(row)

    def hook(module, ins, outs, name=""):
        class_name = type(module).__name__
        outs_t = outs if isinstance(outs, (tuple, list)) else (outs,)
        if cal_params:
            record_param(getattr(module, "weight", None), name + "-w")
            record_param(getattr(module, "bias", None), name + "-b")
        if not isinstance(module, hooked):
            return
        if cal_flops:
            fn = next((f for t, f in _calc_flops_dict.items() if isinstance(module, t)), None)
            if fn is not None:
                flops.append({"name": name, "class_name": class_name,
                              "input_shapes": [i.shape for i in ins],
                              "output_shapes": [o.shape for o in outs_t],
                              "flops_num": fn(module, ins, outs_t)})
        if cal_activations:
            row = _activation_stats(outs_t[0], has_inputs)
            row.update(name=name, class_name=class_name)
            activations.append(row)

    handles = [m.register_forward_hook(functools.partial(hook, name=name))
               for name, m in model.named_modules()]
    names = {id(m): name for name, m in model.named_modules()}
    try:
        with _eval_mode(model), _record_param_reads(names, record_param if cal_params else None):
            model(*inputs)
    finally:
        for h in handles:
            h.remove()

    extra = {"#params": len(params)}
    t_flops = t_pdims = t_psize = t_adims = t_asize = 0
    if cal_params:
        t_pdims = sum(int(d["param_dim"]) for d in params)
        t_psize = _summarize(params, "size", bar_length_max, {})
        params[-1].update(name="total", param_dim=t_pdims, size=sizeof_fmt(t_psize))
        for d in params[:-1]:
            d["size"] = sizeof_fmt(d["size"])
        extra["total_param_dims"] = sizeof_fmt(t_pdims, suffix="")
        extra["total_param_size"] = sizeof_fmt(t_psize)
        if logging_to_stdout:
            logger.info("param stats: \n" + _table(params, [
                "name", "dtype", "shape", "mean", "std", "param_dim", "nbits", "size",
                "size_cum", "percentage", "size_bar"]))
    if cal_flops:
        t_flops = _summarize(flops, "flops_num", bar_length_max, {}, suffix="OPs")
        for d in flops[:-1]:
            d["flops_cum"] = d.pop("flops_num_cum")
            d["flops"] = sizeof_fmt(d["flops_num"], suffix="OPs")
        act_total = sum(sum(s[1] if len(s) > 1 else 0 for s in d["output_shapes"])
                        for d in flops[:-1])
        flops[-1].update(name="total", flops=sizeof_fmt(t_flops, suffix="OPs"),
                         output_shapes=act_total)
        extra["total_flops"] = sizeof_fmt(t_flops, suffix="OPs")
        if logging_to_stdout:
            logger.info("flops stats: \n" + _table(flops, [
                "name", "class_name", "input_shapes", "output_shapes", "flops", "flops_cum",
                "percentage", "bar"]))
    if cal_activations:
        t_adims = sum(int(d["act_dim"]) for d in activations)
        t_asize = _summarize(activations, "size", bar_length_max, {})
        activations[-1].update(name="total", act_dim=t_adims, size=sizeof_fmt(t_asize))
        for d in activations[:-1]:
            d["size"] = sizeof_fmt(d["size"])
        extra["total_act_dims"] = sizeof_fmt(t_adims, suffix="")
        extra["total_act_size"] = sizeof_fmt(t_asize)
        if logging_to_stdout:
            header = ["name", "class_name", "dtype", "shape", "nbits", "act_dim", "size",
                      "size_cum", "percentage", "size_bar"]
            if has_inputs:
                header[4:4] = ["mean", "std"]
            logger.info("activations stats: \n" + _table(activations, header))
    if cal_flops and cal_params and t_psize:
        extra["flops/param_size"] = "{:3.3f}".format(t_flops / t_psize)
    logger.info("summary\n" + _table([{"item": k, "value": v} for k, v in extra.items()],
                                     ["item", "value"]))
    return (total_stats(param_size=t_psize, param_dims=t_pdims, flops=t_flops, act_size=t_asize,
                        act_dims=t_adims),
            stats_details(params=params, flops=flops, activations=activations))
