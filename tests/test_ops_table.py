"""The op table of the core ops (one row per op; machinery in optable.py). The meta-test here
gathers the CASES of every test module and fails when a registered op has no row."""
import math

import numpy as np
import pytest
from optable import Case, U, all_cases, bools, check_case, distinct, gens, ints

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager
from engine.ops import REGISTRY


def round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def gelu_ref(x):
    return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def ce_ref(x, label, smooth=0.0):
    logp = np.log(softmax_ref(x, 1))
    nll = -np.take_along_axis(logp, label[:, None].astype(np.int64), 1)[:, 0]
    return (nll * (1 - smooth) - logp.mean(1) * smooth).mean()


def scatter_ref(x, idx, src, axis):
    out = x.copy()
    np.put_along_axis(out, idx.astype(np.int64), src, axis)
    return out


def unique_cols(rng):
    """Index (3, 4) into axis 0 of a (5, 4) tensor without repeats in a column."""
    return np.stack([rng.permutation(5)[:3] for _ in range(4)], 1).astype(np.int32)


UNARY = [
    # name, F function, numpy reference, domain
    ("abs", F.abs, np.abs, (-2, 2), ("Abs", "Sign")),
    ("neg", F.neg, np.negative, (-2, 2), ("Neg",)),
    ("exp", F.exp, np.exp, (-2, 2), ("Exp",)),
    ("expm1", F.expm1, np.expm1, (-2, 2), ("Expm1",)),
    ("log", F.log, np.log, (0.5, 3), ("Log",)),
    ("log1p", F.log1p, np.log1p, (-0.5, 2), ("Log1p",)),
    ("sqrt", F.sqrt, np.sqrt, (0.5, 3), ("Sqrt",)),
    ("rsqrt", F.rsqrt, lambda x: 1 / np.sqrt(x), (0.5, 3), ("Rsqrt",)),
    ("square", F.square, np.square, (-2, 2), ("Square",)),
    ("sin", F.sin, np.sin, (-3, 3), ("Sin", "Cos")),
    ("cos", F.cos, np.cos, (-3, 3), ("Cos", "Sin")),
    ("tan", F.tan, np.tan, (-1, 1), ("Tan",)),
    ("asin", F.asin, np.arcsin, (-0.9, 0.9), ("Asin", "Rsqrt")),
    ("acos", F.acos, np.arccos, (-0.9, 0.9), ("Acos", "Rsqrt")),
    ("atan", F.atan, np.arctan, (-3, 3), ("Atan",)),
    ("sinh", F.sinh, np.sinh, (-2, 2), ("Sinh", "Cosh")),
    ("cosh", F.cosh, np.cosh, (-2, 2), ("Cosh", "Sinh")),
    ("tanh", F.tanh, np.tanh, (-2, 2), ("Tanh",)),
    ("asinh", F.asinh, np.arcsinh, (-2, 2), ("Asinh",)),
    ("acosh", F.acosh, np.arccosh, (1.2, 3), ("Acosh",)),
    ("atanh", F.atanh, np.arctanh, (-0.9, 0.9), ("Atanh",)),
    ("ceil", F.ceil, np.ceil, (-3, 3), ("Ceil",)),
    ("floor", F.floor, np.floor, (-3, 3), ("Floor",)),
    ("round", F.round, round_half_away, (-3, 3), ("Round",)),
    ("trunc", F.trunc, np.trunc, (-3, 3), ("Trunc",)),
    ("sign", F.sign, np.sign, (-3, 3), ("Sign",)),
    ("relu", F.relu, lambda x: np.maximum(x, 0), (-2, 2), ("Relu", "ReluGrad")),
    ("sigmoid", F.sigmoid, lambda x: 1 / (1 + np.exp(-x)), (-4, 4), ("Sigmoid", "SigmoidGrad")),
    ("silu", F.silu, lambda x: x / (1 + np.exp(-x)), (-4, 4), ("Silu", "SiluGrad")),
    ("gelu", F.gelu, gelu_ref, (-4, 4), ("Gelu", "GeluGrad")),
]

CASES = [Case(n, gens(U(3, 5, lo=lo, hi=hi)), f, r, ops, grad=(0,))
         for n, f, r, (lo, hi), ops in UNARY]

CASES += [
    Case("add", gens(U(3, 4), U(4)), F.add, np.add, ("Add",), grad=(0, 1)),
    Case("add_scalar", gens(U(3, 4)), lambda x: x + 2.5, lambda x: x + 2.5, ("Add",), grad=(0,)),
    Case("sub", gens(U(2, 1, 3), U(4, 1)), F.sub, np.subtract, ("Sub",), grad=(0, 1)),
    Case("rsub_scalar", gens(U(3)), lambda x: 1 - x, lambda x: 1 - x, ("Sub",), grad=(0,)),
    Case("mul", gens(U(3, 4), U(3, 1)), F.mul, np.multiply, ("Mul",), grad=(0, 1)),
    Case("div", gens(U(3, 4), U(4, lo=0.5, hi=2)), F.div, np.divide, ("Div",), grad=(0, 1)),
    Case("div_int", gens(ints(6, lo=-9, hi=9), ints(6, lo=1, hi=4)), F.div, np.divide,
         ("Cast", "Div")),
    Case("floor_div", gens(ints(6, lo=-9, hi=9), ints(6, lo=1, hi=4)), F.floor_div,
         np.floor_divide, ("FloorDiv",)),
    # MegEngine's float mod is fmod (sign of the dividend); integer mod is floored
    Case("mod", gens(U(3, 4, lo=-3, hi=3), U(4, lo=0.7, hi=2)), F.mod, np.fmod,
         ("Mod", "Div", "Trunc"), grad=(0, 1)),
    Case("mod_int", gens(ints(6, lo=-9, hi=9), ints(6, lo=1, hi=4)), F.mod, np.mod, ("Mod",)),
    Case("pow", gens(U(3, 4, lo=0.5, hi=2), U(4, lo=-1, hi=2)), F.pow, np.power,
         ("Pow", "Log", "Where"), grad=(0, 1)),
    Case("maximum", gens(distinct(3, 4), distinct(3, 4)), F.maximum, np.maximum,
         ("Maximum", "Greater"), grad=(0, 1)),
    Case("minimum", gens(distinct(3, 4), distinct(4)), F.minimum, np.minimum,
         ("Minimum", "Less"), grad=(0, 1)),
    Case("atan2", gens(U(3, 4), U(3, 4, lo=0.3, hi=2)), F.atan2, np.arctan2, ("Atan2",),
         grad=(0, 1)),
    Case("clip", gens(U(3, 5)), lambda x: F.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
         ("Clip", "GreaterEqual", "LessEqual", "LogicalAnd"), grad=(0,)),
    Case("clip_lower", gens(U(3, 5)), lambda x: F.clip(x, lower=0.1),
         lambda x: np.maximum(x, 0.1), ("Clip",), grad=(0,)),
    Case("equal", gens(ints(4, 3), ints(3)), F.equal, np.equal, ("Equal",)),
    Case("not_equal", gens(ints(4, 3), ints(3)), F.not_equal, np.not_equal, ("NotEqual",)),
    Case("less", gens(ints(4, 3), ints(3)), F.less, np.less, ("Less",)),
    Case("less_equal", gens(ints(4, 3), ints(3)), F.less_equal, np.less_equal, ("LessEqual",)),
    Case("greater", gens(ints(4, 3), ints(3)), F.greater, np.greater, ("Greater",)),
    Case("greater_equal", gens(ints(4, 3), ints(3)), F.greater_equal, np.greater_equal,
         ("GreaterEqual",)),
    Case("isnan", lambda r: (np.array([0.0, np.nan, np.inf, -1.0]),), F.isnan, np.isnan,
         ("IsNan",)),
    Case("isinf", lambda r: (np.array([0.0, np.nan, np.inf, -np.inf]),), F.isinf, np.isinf,
         ("IsInf",)),
    Case("logical_and", gens(bools(3, 4), bools(4)), F.logical_and, np.logical_and,
         ("LogicalAnd",)),
    Case("logical_or", gens(bools(3, 4), bools(4)), F.logical_or, np.logical_or, ("LogicalOr",)),
    Case("logical_xor", gens(bools(3, 4), bools(4)), F.logical_xor, np.logical_xor,
         ("LogicalXor",)),
    Case("logical_not", gens(bools(3, 4)), F.logical_not, np.logical_not, ("LogicalNot",)),
    Case("where", gens(bools(3, 4), U(3, 4), U(4)), F.where, np.where, ("Where",), grad=(1, 2)),
    Case("astype", gens(U(3, 4, lo=-5, hi=5)), lambda x: x.astype("int32"),
         lambda x: x.astype(np.int32), ("Cast",)),
    Case("cast_float16", gens(U(3, 4)), lambda x: x.astype("float16").astype("float32"),
         lambda x: x, ("Cast",), grad=(0,), rtol=1e-3, atol=1e-3),
    # reductions
    Case("sum", gens(U(3, 4, 2)), lambda x: F.sum(x, axis=(0, 2)), lambda x: x.sum((0, 2)),
         ("Sum", "BroadcastTo", "Reshape"), grad=(0,)),
    Case("sum_all_keepdims", gens(U(3, 4)), lambda x: F.sum(x, keepdims=True),
         lambda x: x.sum(keepdims=True), ("Sum", "BroadcastTo"), grad=(0,)),
    Case("sum_int", gens(ints(3, 4)), lambda x: F.sum(x, 1), lambda x: x.sum(1), ("Sum",)),
    Case("mean", gens(U(3, 4)), lambda x: F.mean(x, 1, keepdims=True),
         lambda x: x.mean(1, keepdims=True), ("Sum", "Div"), grad=(0,)),
    Case("prod", gens(U(3, 4, lo=0.5, hi=1.5)), lambda x: F.prod(x, 0), lambda x: x.prod(0),
         ("Prod",), grad=(0,)),
    Case("prod_with_zero", lambda r: (np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5],
                                                [1.0, 2.0, 3.0]]),),
         lambda x: F.prod(x, 1), lambda x: x.prod(1), ("Prod",), grad=(0,)),
    Case("max", gens(distinct(3, 4)), lambda x: F.max(x, 1), lambda x: x.max(1), ("Max",),
         grad=(0,)),
    Case("min", gens(distinct(3, 4)), lambda x: F.min(x, axis=(0, 1)), lambda x: x.min((0, 1)),
         ("Min",), grad=(0,)),
    Case("var", gens(U(3, 4)), lambda x: F.var(x, 1), lambda x: x.var(1), ("Sum", "Mul"),
         grad=(0,)),
    Case("std", gens(U(3, 4)), lambda x: F.std(x), lambda x: x.std(), ("Sqrt",), grad=(0,)),
    Case("norm", gens(U(3, 4)), lambda x: F.norm(x, axis=1), lambda x: np.linalg.norm(x, axis=1),
         ("Sqrt", "Sum"), grad=(0,)),
    Case("norm_l1", gens(U(12)), lambda x: F.norm(x, ord=1), lambda x: np.abs(x).sum(),
         ("Abs",), grad=(0,)),
    Case("norm_p3", gens(U(3, 4)), lambda x: F.norm(x, ord=3, axis=0),
         lambda x: (np.abs(x) ** 3).sum(0) ** (1 / 3), ("Pow",), grad=(0,)),
    Case("normalize", gens(U(3, 4)), lambda x: F.normalize(x, axis=1),
         lambda x: x / np.linalg.norm(x, axis=1, keepdims=True), ("Clip", "Div"), grad=(0,)),
    Case("argmax", gens(distinct(3, 4)), lambda x: F.argmax(x, 1), lambda x: x.argmax(1),
         ("ArgMax",)),
    Case("argmin", gens(distinct(3, 4)), lambda x: F.argmin(x), lambda x: x.argmin(),
         ("ArgMin", "Reshape")),
    Case("cumsum", gens(U(3, 4)), lambda x: F.cumsum(x, 1), lambda x: x.cumsum(1),
         ("CumSum", "Flip"), grad=(0,)),
    # sorting
    Case("sort", gens(distinct(3, 5)), lambda x: F.sort(x)[0], lambda x: np.sort(x, -1),
         ("Sort", "GatherGrad"), grad=(0,)),
    Case("sort_desc_idx", gens(distinct(3, 5)), lambda x: F.sort(x, descending=True)[1],
         lambda x: np.argsort(-x, -1), ("Sort",)),
    Case("argsort", gens(distinct(6)), F.argsort, np.argsort, ("Sort",)),
    Case("topk", gens(distinct(3, 6)), lambda x: F.topk(x, 2)[0],
         lambda x: -np.sort(-x, -1)[:, :2], ("TopK", "GatherGrad"), grad=(0,)),
    Case("topk_smallest", gens(distinct(6)), lambda x: F.topk(x, 3, descending=False)[1],
         lambda x: np.argsort(x)[:3], ("TopK",)),
    Case("topk_kth", gens(distinct(3, 6)), lambda x: F.topk(x, 2, kth_only=True)[0],
         lambda x: -np.sort(-x, -1)[:, 1], ("TopK", "Reshape"), grad=(0,)),
    # linear algebra
    Case("matmul", gens(U(3, 4), U(4, 5)), F.matmul, np.matmul, ("Matmul",), grad=(0, 1)),
    Case("matmul_batched", gens(U(2, 1, 3, 4), U(3, 4, 2)), F.matmul, np.matmul, ("Matmul",),
         grad=(0, 1)),
    Case("matmul_transposed", gens(U(4, 3), U(5, 4)),
         lambda a, b: F.matmul(a, b, transpose_a=True, transpose_b=True),
         lambda a, b: a.T @ b.T, ("Matmul",), grad=(0, 1)),
    Case("matmul_ta", gens(U(2, 4, 3), U(4, 2)), lambda a, b: F.matmul(a, b, transpose_a=True),
         lambda a, b: np.swapaxes(a, -1, -2) @ b, ("Matmul",), grad=(0, 1)),
    Case("matmul_tb", gens(U(3, 4), U(2, 4)), lambda a, b: F.matmul(a, b, transpose_b=True),
         lambda a, b: a @ b.T, ("Matmul",), grad=(0, 1)),
    Case("matmul_vec", gens(U(4), U(4, 3)), F.matmul, np.matmul, ("Matmul",), grad=(0, 1)),
    Case("dot", gens(U(5), U(5)), F.dot, np.dot, ("Matmul",), grad=(0, 1)),
    # creation and layout
    Case("reshape", gens(U(3, 4)), lambda x: F.reshape(x, (2, -1)), lambda x: x.reshape(2, -1),
         ("Reshape",), grad=(0,)),
    Case("transpose", gens(U(2, 3, 4)), lambda x: F.transpose(x, (2, 0, 1)),
         lambda x: x.transpose(2, 0, 1), ("Transpose",), grad=(0,)),
    Case("dimshuffle_x", gens(U(2, 3)), lambda x: F.transpose(x, (1, "x", 0)),
         lambda x: x.T[:, None, :], ("Transpose", "Reshape"), grad=(0,)),
    Case("broadcast_to", gens(U(3, 1)), lambda x: F.broadcast_to(x, (2, 3, 4)),
         lambda x: np.broadcast_to(x, (2, 3, 4)), ("BroadcastTo",), grad=(0,)),
    Case("expand_squeeze", gens(U(3, 4)), lambda x: F.squeeze(F.expand_dims(x, (0, 2)), 0),
         lambda x: x[:, None], ("Reshape",), grad=(0,)),
    Case("flatten", gens(U(2, 3, 4)), lambda x: F.flatten(x, 1), lambda x: x.reshape(2, 12),
         ("Reshape",), grad=(0,)),
    Case("concat", gens(U(2, 3), U(4, 3)), lambda a, b: F.concat([a, b]),
         lambda a, b: np.concatenate([a, b]), ("Concat", "GetItem"), grad=(0, 1)),
    Case("stack", gens(U(2, 3), U(2, 3)), lambda a, b: F.stack([a, b], axis=1),
         lambda a, b: np.stack([a, b], 1), ("Concat", "Reshape"), grad=(0, 1)),
    Case("split", gens(U(6, 2)), lambda x: F.split(x, [1, 4])[1], lambda x: x[1:4],
         ("GetItem", "GetItemGrad"), grad=(0,)),
    Case("repeat", gens(U(2, 3)), lambda x: F.repeat(x, 3, axis=1), lambda x: np.repeat(x, 3, 1),
         ("Repeat", "Sum"), grad=(0,)),
    Case("tile", gens(U(2, 3)), lambda x: F.tile(x, (2, 1, 2)), lambda x: np.tile(x, (2, 1, 2)),
         ("Tile", "Sum"), grad=(0,)),
    Case("flip", gens(U(3, 4)), lambda x: F.flip(x, (0, 1)), lambda x: np.flip(x, (0, 1)),
         ("Flip",), grad=(0,)),
    Case("roll", gens(U(3, 4)), lambda x: F.roll(x, 2, 1), lambda x: np.roll(x, 2, 1),
         ("Roll",), grad=(0,)),
    Case("roll_flat", gens(U(3, 4)), lambda x: F.roll(x, -5), lambda x: np.roll(x, -5),
         ("Roll",), grad=(0,)),
    Case("copy", gens(U(3, 4)), lambda x: F.copy(x), lambda x: x.copy(), ("Copy",), grad=(0,)),
    Case("zeros_like_add", gens(U(3)), lambda x: F.zeros_like(x) + F.ones((3,)) + x,
         lambda x: x + 1, ("Add",), grad=(0,)),
    Case("arange_linspace_eye", gens(U(3, 3)),
         lambda x: x + F.arange(3) + F.linspace(0, 1, 3) + F.eye(3) + F.full((3, 3), 0.5),
         lambda x: x + np.arange(3) + np.linspace(0, 1, 3) + np.eye(3) + 0.5, ("Add",),
         grad=(0,)),
    # indexing
    Case("getitem_basic", gens(U(4, 5)), lambda x: x[1:, ::2], lambda x: x[1:, ::2],
         ("GetItem", "GetItemGrad"), grad=(0,)),
    Case("getitem_advanced", gens(U(4, 5)), lambda x: x[[0, 2, 0], 1:3],
         lambda x: x[[0, 2, 0], 1:3], ("GetItem", "GetItemGrad"), grad=(0,)),
    Case("getitem_mask", gens(U(4, 5)), lambda x: x[x > 0], lambda x: x[x > 0],
         ("GetItem", "Greater"), grad=(0,)),
    Case("setitem", gens(U(4, 5), U(2, 5)), lambda x, v: _setitem(x, v),
         lambda x, v: _setitem_ref(x, v), ("SetItem",), grad=(0, 1)),
    Case("gather", gens(U(3, 4), ints(3, 2, hi=4)), lambda x, i: F.gather(x, 1, i),
         lambda x, i: np.take_along_axis(x, i.astype(np.int64), 1), ("Gather", "GatherGrad"),
         grad=(0,)),
    Case("scatter", lambda r: (r.uniform(-2, 2, (5, 4)), unique_cols(r), r.uniform(-2, 2, (3, 4))),
         # F.scatter writes into its input (as MegEngine): the gradient reaching x is taken
         # through a copy, as for setitem
         lambda x, i, s: F.scatter(F.copy(x), 0, i, s), lambda x, i, s: scatter_ref(x, i, s, 0),
         ("Scatter", "Gather"), grad=(0, 2)),
    Case("cond_take", gens(bools(3, 4), U(3, 4)), lambda m, x: F.cond_take(m, x)[0],
         lambda m, x: x[m], ("CondTake", "GetItemGrad"), grad=(1,)),
    Case("cond_take_idx", gens(bools(3, 4), U(3, 4)), lambda m, x: F.cond_take(m, x)[1],
         lambda m, x: np.flatnonzero(m), ("CondTake",)),
    # nn
    Case("leaky_relu", gens(U(3, 5)), lambda x: F.leaky_relu(x, 0.2),
         lambda x: np.where(x > 0, x, 0.2 * x), ("LeakyRelu", "LeakyReluGrad"), grad=(0,)),
    Case("softmax", gens(U(2, 4, 3)), F.softmax, lambda x: softmax_ref(x, 1), ("Softmax",),
         grad=(0,)),
    Case("softmax_1d", gens(U(5)), F.softmax, lambda x: softmax_ref(x, 0), ("Softmax",),
         grad=(0,)),
    Case("logsoftmax", gens(U(3, 4)), lambda x: F.logsoftmax(x, axis=-1),
         lambda x: np.log(softmax_ref(x, -1)), ("LogSoftmax",), grad=(0,)),
    Case("linear", gens(U(4, 3), U(5, 3), U(5)), F.nn.linear, lambda x, w, b: x @ w.T + b,
         ("Matmul", "Add"), grad=(0, 1, 2)),
    Case("one_hot", gens(ints(4, hi=3)), lambda x: F.one_hot(x, 3),
         lambda x: np.eye(3, dtype=np.int32)[x], ("OneHot",)),
    Case("pad_constant", gens(U(2, 3)), lambda x: F.nn.pad(x, ((1, 0), (2, 1)), constant_value=3),
         lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=3), ("PadConstant", "GetItem"),
         grad=(0,)),
    Case("pad_reflect", gens(U(3, 4)), lambda x: F.nn.pad(x, ((1, 2), (0, 3)), mode="reflect"),
         lambda x: np.pad(x, ((1, 2), (0, 3)), mode="reflect"), ("Take", "TakeGrad"), grad=(0,)),
    Case("pad_replicate", gens(U(3, 4)),
         lambda x: F.nn.pad(x, ((2, 0), (1, 1)), mode="replicate"),
         lambda x: np.pad(x, ((2, 0), (1, 1)), mode="edge"), ("Take", "TakeGrad"), grad=(0,)),
    Case("dropout_eval", gens(U(3, 4)), lambda x: F.nn.dropout(x, 0.5, training=False),
         lambda x: x, (), grad=(0,)),
    Case("layer_norm", gens(U(2, 3, 4), U(4), U(4)),
         lambda x, w, b: F.nn.layer_norm(x, (4,), True, w, b),
         lambda x, w, b: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True)
                                                                   + 1e-5) * w + b,
         ("GroupNorm", "GroupNormGrad"), grad=(0, 1, 2), atol=1e-5),
    # losses
    Case("cross_entropy", gens(U(4, 5), ints(4, hi=5)), F.nn.cross_entropy, ce_ref,
         ("CrossEntropy", "CrossEntropyGrad"), grad=(0,)),
    Case("cross_entropy_smooth", gens(U(4, 5), ints(4, hi=5)),
         lambda x, y: F.loss.cross_entropy(x, y, label_smooth=0.1),
         lambda x, y: ce_ref(x, y, 0.1), ("CrossEntropy",), grad=(0,)),
    Case("cross_entropy_probs", gens(U(4, 5, lo=0.1, hi=1), ints(4, hi=5)),
         lambda x, y: F.nn.cross_entropy(x, y, with_logits=False, reduction="sum"),
         lambda x, y: -np.log(np.take_along_axis(x, y[:, None].astype(np.int64), 1)).sum(),
         ("Log", "Gather"), grad=(0,)),
    Case("binary_cross_entropy", gens(U(6), U(6, lo=0, hi=1)), F.nn.binary_cross_entropy,
         lambda x, y: np.mean(np.log1p(np.exp(-x)) + (1 - y) * x), ("Log1p", "Maximum"),
         grad=(0, 1)),
    Case("binary_cross_entropy_probs", gens(U(6, lo=0.1, hi=0.9), U(6, lo=0, hi=1)),
         lambda x, y: F.loss.binary_cross_entropy(x, y, with_logits=False, reduction="none"),
         lambda x, y: -(y * np.log(x) + (1 - y) * np.log(1 - x)), ("Log",), grad=(0, 1)),
    Case("l1_loss", gens(U(3, 4), U(3, 4)), F.nn.l1_loss, lambda x, y: np.abs(x - y).mean(),
         ("Abs",), grad=(0, 1)),
    Case("square_loss", gens(U(3, 4), U(3, 4)), lambda x, y: F.loss.square_loss(x, y, "sum"),
         lambda x, y: ((x - y) ** 2).sum(), ("Mul",), grad=(0, 1)),
    Case("smooth_l1_loss", gens(U(3, 4), U(3, 4)), F.nn.smooth_l1_loss,
         lambda x, y: np.where(np.abs(x - y) < 1, 0.5 * (x - y) ** 2, np.abs(x - y) - 0.5).mean(),
         ("Abs", "Less"), grad=(0, 1)),
]


def _setitem(x, v):
    x = F.copy(x)
    x[1:3] = v
    return x * 1


def _setitem_ref(x, v):
    x = x.copy()
    x[1:3] = v
    return x


def test_every_registered_op_has_a_row():
    covered = set()
    for c in all_cases():
        covered.update(c.ops)
    missing = sorted(set(REGISTRY) - covered)
    assert not missing, f"ops without a row in any op table: {missing}"
    unknown = sorted(covered - set(REGISTRY))
    assert not unknown, f"rows name ops that are not registered: {unknown}"


def test_rows_have_unique_names():
    names = [c.name for c in all_cases()]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, device, monkeypatch):
    check_case(case, device, monkeypatch)


SECOND_ORDER = [
    ("exp", F.exp, np.exp, (-1, 1)),
    ("sin", F.sin, lambda x: -np.sin(x), (-2, 2)),
    ("tanh", F.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), (-2, 2)),
    ("sigmoid", F.sigmoid, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s), (-3, 3)),
    ("gelu", F.gelu, lambda x: np.exp(-x * x / 2) / math.sqrt(2 * math.pi) * (2 - x * x),
     (-3, 3)),
    ("silu", F.silu,
     lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (2 + x * (1 - 2 * s)), (-3, 3)),
    # x**3 slope 0.3 for x < 0: the second backward runs through LeakyReluGrad's backward
    ("leaky_relu_x2", lambda x: F.leaky_relu(x, 0.3) * x * x,
     lambda x: np.where(x > 0, 6 * x, 1.8 * x), (-2, 2)),
    ("log", F.log, lambda x: -1 / x ** 2, (0.5, 2)),
    ("sqrt", F.sqrt, lambda x: -0.25 * x ** -1.5, (0.5, 2)),
    # x**3 for x > 0, else 0: the second backward runs through ReluGrad's backward
    ("relu_x2", lambda x: F.relu(x) * x * x, lambda x: np.where(x > 0, 6 * x, 0.0), (-2, 2)),
]


@pytest.mark.parametrize("name,fn,d2,dom", SECOND_ORDER, ids=[s[0] for s in SECOND_ORDER])
def test_second_derivative(name, fn, d2, dom, device):
    x_np = np.random.default_rng(1).uniform(*dom, 7)
    x = mge.tensor(x_np, device=device)
    outer, inner = GradManager().attach(x), GradManager().attach(x)
    with outer:
        with inner:
            inner.backward(fn(x).sum())
        g1 = x.grad
        x.grad = None
        outer.backward(g1.sum())
    np.testing.assert_allclose(x.grad.numpy(), d2(x_np.astype(np.float32).astype(np.float64)),
                               rtol=2e-3, atol=2e-4)
