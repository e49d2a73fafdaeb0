"""engine op -> ONNX nodes, one converter per op (opset 17).

A converter gets the export context and one graph node (passes.py's form: "op", "attrs", "ins",
"outs" over value slots) and emits ONNX nodes through ctx. Every converter writes ONNX's
defining semantics for what the engine op computes; where the two differ (GroupNorm, which ONNX
17 lacks; Interpolate's coordinate rules), the conversion says how it matches.
"""
import numpy as np

from ..ops import conv as _conv
from ..ops import elemwise as _ew
from ..ops import interpolate as _interp
from ..ops import math as _math
from ..ops import nn as _nn
from ..ops import norm as _norm
from ..ops import pooling as _pool
from ..ops import reduce as _reduce
from ..ops import shape as _shape
from ..ops import softmax as _softmax

CONVERTERS = {}


def converts(*ops):
    def register(fn):
        for op in ops:
            CONVERTERS[op] = fn
        return fn
    return register


def _pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


@converts(_conv.Conv2d, _conv.Conv2dRelu)
def conv2d(ctx, n):
    a = n["attrs"]
    x, w = n["ins"][:2]
    kh, kw = ctx.shape(w)[2:]
    ph, pw = _pair(a["padding"])
    inputs = [ctx.name(x), ctx.name(w)]
    bias_added = None
    if len(n["ins"]) > 2:
        b = n["ins"][2]
        if ctx.is_const(b):  # ONNX's bias is (O,)
            inputs.append(ctx.const(ctx.value(b).reshape(-1), "bias"))
        else:
            bias_added = b
    relu = n["op"] is _conv.Conv2dRelu
    out = ctx.name(n["outs"][0])
    conv_out = ctx.temp("conv") if relu or bias_added is not None else out
    ctx.node("Conv", inputs, [conv_out], kernel_shape=[kh, kw], strides=_pair(a["stride"]),
             pads=[ph, pw, ph, pw], dilations=_pair(a["dilation"]), group=a["groups"])
    if bias_added is not None:
        biased = ctx.temp("biased") if relu else out
        ctx.node("Add", [conv_out, ctx.name(bias_added)], [biased])
        conv_out = biased
    if relu:
        ctx.node("Relu", [conv_out], [out])


_BINARY = {_ew.Add: "Add", _ew.Sub: "Sub", _ew.Mul: "Mul", _ew.Div: "Div", _ew.Pow: "Pow",
           _ew.Maximum: "Max", _ew.Minimum: "Min"}


@converts(*_BINARY)
def binary(ctx, n):
    a, b = n["ins"]
    # ONNX wants both sides of one type; a constant takes the other side's (a Python scalar
    # may have been recorded as a float32 0-d array against a float16 input, say).
    names = [ctx.name(a), ctx.name(b)]
    for i, (s, other) in enumerate(((a, b), (b, a))):
        if ctx.is_const(s) and ctx.dtype(s) != ctx.dtype(other) and n["op"] is not _ew.Pow:
            names[i] = ctx.const(ctx.value(s).astype(ctx.dtype(other)), "scalar")
    ctx.node(_BINARY[n["op"]], names, [ctx.name(n["outs"][0])])


_UNARY = {_nn.Relu: "Relu", _nn.Sigmoid: "Sigmoid", _ew.Tanh: "Tanh", _ew.Exp: "Exp",
          _ew.Log: "Log", _ew.Sqrt: "Sqrt", _ew.Neg: "Neg", _ew.Abs: "Abs",
          _shape.Copy: "Identity"}


@converts(*_UNARY)
def unary(ctx, n):
    ctx.node(_UNARY[n["op"]], [ctx.name(n["ins"][0])], [ctx.name(n["outs"][0])])


@converts(_nn.LeakyRelu)
def leaky_relu(ctx, n):
    ctx.node("LeakyRelu", [ctx.name(n["ins"][0])], [ctx.name(n["outs"][0])],
             alpha=float(n["attrs"]["negative_slope"]))


@converts(_nn.Silu)
def silu(ctx, n):
    x = ctx.name(n["ins"][0])
    s = ctx.temp("sigmoid")
    ctx.node("Sigmoid", [x], [s])
    ctx.node("Mul", [x, s], [ctx.name(n["outs"][0])])


@converts(_nn.Gelu)
def gelu(ctx, n):
    """x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), engine's exact GELU."""
    x = ctx.name(n["ins"][0])
    dt = ctx.dtype(n["ins"][0])
    t = [ctx.temp("gelu") for _ in range(4)]
    ctx.node("Mul", [x, ctx.const(np.asarray(1 / np.sqrt(2), dt), "rsqrt2")], [t[0]])
    ctx.node("Erf", [t[0]], [t[1]])
    ctx.node("Add", [t[1], ctx.const(np.asarray(1, dt), "one")], [t[2]])
    ctx.node("Mul", [x, t[2]], [t[3]])
    ctx.node("Mul", [t[3], ctx.const(np.asarray(0.5, dt), "half")], [ctx.name(n["outs"][0])])


@converts(_ew.Clip)
def clip(ctx, n):
    a, x = n["attrs"], n["ins"][0]
    dt = ctx.dtype(x)
    ins = [ctx.name(x)]
    ins.append("" if a["lower"] is None else ctx.const(np.asarray(a["lower"], dt), "min"))
    ins.append("" if a["upper"] is None else ctx.const(np.asarray(a["upper"], dt), "max"))
    ctx.node("Clip", ins, [ctx.name(n["outs"][0])])


@converts(_ew.Cast)
def cast(ctx, n):
    ctx.node("Cast", [ctx.name(n["ins"][0])], [ctx.name(n["outs"][0])],
             to=ctx.onnx_dtype(np.dtype(n["attrs"]["dtype"])))


@converts(_shape.Reshape)
def reshape(ctx, n):
    shape = np.asarray(ctx.shape(n["outs"][0]), np.int64)
    ctx.node("Reshape", [ctx.name(n["ins"][0]), ctx.const(shape, "shape")],
             [ctx.name(n["outs"][0])])


@converts(_shape.Transpose)
def transpose(ctx, n):
    ctx.node("Transpose", [ctx.name(n["ins"][0])], [ctx.name(n["outs"][0])],
             perm=[int(p) for p in n["attrs"]["pattern"]])


@converts(_shape.BroadcastTo)
def broadcast_to(ctx, n):
    shape = np.asarray(ctx.shape(n["outs"][0]), np.int64)
    ctx.node("Expand", [ctx.name(n["ins"][0]), ctx.const(shape, "shape")],
             [ctx.name(n["outs"][0])])


@converts(_shape.Concat)
def concat(ctx, n):
    axis = n["attrs"]["axis"]
    ctx.node("Concat", [ctx.name(s) for s in n["ins"]], [ctx.name(n["outs"][0])],
             axis=int(axis))


def _pool_attrs(ctx, n):
    a = n["attrs"]
    ph, pw = _pair(a["padding"])
    return dict(kernel_shape=_pair(a["kernel"]), strides=_pair(a["stride"]),
                pads=[ph, pw, ph, pw])


@converts(_pool.MaxPool2d)
def max_pool(ctx, n):
    if any(ctx.is_read(s) for s in n["outs"][1:]):
        ctx.unsupported("MaxPool2d whose second output is used")
        return
    ctx.node("MaxPool", [ctx.name(n["ins"][0])], [ctx.name(n["outs"][0])],
             **_pool_attrs(ctx, n))


@converts(_pool.AvgPool2d)
def avg_pool(ctx, n):
    ctx.node("AveragePool", [ctx.name(n["ins"][0])], [ctx.name(n["outs"][0])],
             count_include_pad=int(bool(n["attrs"]["count_include_pad"])),
             **_pool_attrs(ctx, n))


def _axes(ctx, n):
    axis = n["attrs"]["axis"]
    rank = len(ctx.shape(n["ins"][0]))
    if axis is None:
        return list(range(rank))
    axis = axis if isinstance(axis, (tuple, list)) else (axis,)
    return [int(a) % rank if rank else 0 for a in axis]


@converts(_reduce.Sum)
def reduce_sum(ctx, n):
    ctx.node("ReduceSum", [ctx.name(n["ins"][0]),
                           ctx.const(np.asarray(_axes(ctx, n), np.int64), "axes")],
             [ctx.name(n["outs"][0])], keepdims=int(bool(n["attrs"]["keepdims"])))


@converts(_reduce.Max, _reduce.Min)
def reduce_extreme(ctx, n):
    ctx.node("ReduceMax" if n["op"] is _reduce.Max else "ReduceMin", [ctx.name(n["ins"][0])],
             [ctx.name(n["outs"][0])], axes=_axes(ctx, n),
             keepdims=int(bool(n["attrs"]["keepdims"])))


@converts(_softmax.Softmax, _softmax.LogSoftmax)
def softmax(ctx, n):
    ctx.node("Softmax" if n["op"] is _softmax.Softmax else "LogSoftmax",
             [ctx.name(n["ins"][0])], [ctx.name(n["outs"][0])], axis=int(n["attrs"]["axis"]))


@converts(_math.Matmul)
def matmul(ctx, n):
    ins = []
    for s, flag in zip(n["ins"], ("transpose_a", "transpose_b")):
        name = ctx.name(s)
        if n["attrs"][flag]:
            rank = len(ctx.shape(s))
            perm = list(range(rank - 2)) + [rank - 1, rank - 2]
            t = ctx.temp("transposed")
            ctx.node("Transpose", [name], [t], perm=perm)
            name = t
        ins.append(name)
    ctx.node("MatMul", ins, [ctx.name(n["outs"][0])])


@converts(_interp.Interpolate)
def interpolate(ctx, n):
    """engine samples source coordinate (dst + 0.5) * scale - 0.5 (bilinear) or floor(dst *
    scale) (nearest) with scale the attrs' source-coordinate scale: ONNX Resize with that
    coordinate scale and half_pixel / asymmetric+floor is the same map; align_corners is
    ONNX's align_corners."""
    a = n["attrs"]
    x = n["ins"][0]
    in_h, in_w = ctx.shape(x)[2:]
    out_h, out_w = a["size"]
    sizes = ctx.const(np.asarray([*ctx.shape(x)[:2], out_h, out_w], np.int64), "sizes")
    out = [ctx.name(n["outs"][0])]
    if a["align_corners"]:
        ctx.node("Resize", [ctx.name(x), "", "", sizes], out, mode="linear",
                 coordinate_transformation_mode="align_corners")
        return
    # With sizes, ONNX's coordinate scale is out / in; engine's source scale is in / out for a
    # size-given resize. A scale_factor resize has engine scale 1 / factor: ONNX's scales then,
    # but only where float32 and float64 agree on the output size floor(in * factor).
    exact = (abs(a["scale_h"] - in_h / out_h) < 1e-12 and abs(a["scale_w"] - in_w / out_w) < 1e-12)
    if exact:
        inputs = [ctx.name(x), "", "", sizes]
    else:
        factors = [1.0 / a["scale_h"], 1.0 / a["scale_w"]]
        ok = all(int(np.floor(np.float32(f) * np.float32(i))) == o == int(np.floor(f * i))
                 for f, i, o in zip(factors, (in_h, in_w), (out_h, out_w)))
        if not ok:
            ctx.unsupported(f"Interpolate to {out_h}x{out_w} from {in_h}x{in_w} with source "
                            f"scales {a['scale_h']}, {a['scale_w']} (no ONNX scale gives that "
                            "size)")
            return
        inputs = [ctx.name(x), "", ctx.const(np.asarray([1.0, 1.0, *factors], np.float32),
                                             "scales")]
    if a["mode"] == "nearest":
        ctx.node("Resize", inputs, out, mode="nearest",
                 coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    else:
        ctx.node("Resize", inputs, out, mode="linear",
                 coordinate_transformation_mode="half_pixel")


@converts(_norm.GroupNorm)
def group_norm(ctx, n):
    """ONNX 17 has no GroupNormalization: x as (N, G, -1) through InstanceNormalization (unit
    scale, zero shift), back to x's shape, then the per-channel weight and bias."""
    if any(ctx.is_read(s) for s in n["outs"][1:]):
        ctx.unsupported("GroupNorm whose mean or variance output is used")
        return
    x, w, b = n["ins"]
    shape = ctx.shape(x)
    g = n["attrs"]["groups"]
    dt = ctx.dtype(x)
    grouped, normed, back, scaled = (ctx.temp("gn") for _ in range(4))
    ctx.node("Reshape", [ctx.name(x), ctx.const(np.asarray([shape[0], g, -1], np.int64),
                                                 "shape")], [grouped])
    ctx.node("InstanceNormalization", [grouped, ctx.const(np.ones(g, dt), "ones"),
                                       ctx.const(np.zeros(g, dt), "zeros")], [normed],
             epsilon=float(n["attrs"]["eps"]))
    ctx.node("Reshape", [normed, ctx.const(np.asarray(shape, np.int64), "shape")], [back])
    per_channel = np.asarray((1, shape[1]) + (1,) * (len(shape) - 2), np.int64)
    w4, b4 = ctx.temp("gn_w"), ctx.temp("gn_b")
    ctx.node("Reshape", [ctx.name(w), ctx.const(per_channel, "shape")], [w4])
    ctx.node("Reshape", [ctx.name(b), ctx.const(per_channel, "shape")], [b4])
    ctx.node("Mul", [back, w4], [scaled])
    ctx.node("Add", [scaled, b4], [ctx.name(n["outs"][0])])


@converts(_ew.Where)
def where(ctx, n):
    ctx.node("Where", [ctx.name(s) for s in n["ins"]], [ctx.name(n["outs"][0])])
