"""Batch and group normalisation (layer norm is group norm of a (rows, features) view with one
group) on fused native kernels (csrc/kernels/norm.h, csrc/cpu/norm.cpp).

Forward ops return (y, mean, var): the statistics (biased variance) as extra outputs, which the
functional layer uses for BatchNorm's running averages and the backward reuses. The backward runs
one fused native kernel. When a GradManager records the backward pass (higher-order gradients),
the same formula is written with differentiable ops instead, and the gradients that reach the
mean and var outputs flow back to x through their own definitions, so every order composes.
"""
import numpy as np

from . import core
from ._kernels import cpu_kernels, f32, to_dtype
from .core import Op
from .elemwise import Cast
from .reduce import Sum
from .shape import BroadcastTo, Reshape


def _cast(a, like):
    return None if a is None else a.astype(like.dtype, copy=False)


def _as_dtype_of(t, like):
    """Tensor t in like's dtype: the recorded backward mixes float16/bfloat16 x with the float32
    statistics, which promotes to float32; a gradient keeps its input's dtype."""
    return t if t is None or t.dtype == like.dtype else Cast.apply(t, dtype=like.dtype)


def _stats_grad(x3, mean, var, dmean, dvar, m):
    """d x3 from gradients reaching mean = sum(x)/m and var = sum((x - mean)^2)/m, x3 viewed as
    (A, B, S) with the statistics of shape broadcasting as (A or 1, B or 1, 1)."""
    dx = None
    if dmean is not None:
        dx = BroadcastTo.apply(dmean * (1.0 / m), shape=x3.shape)
    if dvar is not None:
        term = (x3 - mean) * (dvar * (2.0 / m))
        dx = term if dx is None else dx + term
    return dx


class BatchNorm(Op):
    """Training-mode batch norm of x (N, C, ...) with its batch statistics per channel; weight and
    bias (C,). Outputs y, mean (C,), var (C,)."""

    n_outputs = 3
    save_outputs = True

    def forward(xp, x, weight, bias, eps):
        y, mean, var = cpu_kernels(xp, "BatchNorm").batch_norm_forward(f32(x), f32(weight),
                                                                    f32(bias), eps)
        return to_dtype(y, x.dtype), mean, var

    def backward(ctx, dy, dmean, dvar):
        x, w, _ = ctx.inputs
        _, mean, var = ctx.outputs
        n, c = x.shape[:2]
        s = int(np.prod(x.shape[2:], dtype=np.int64))
        x3 = Reshape.apply(x, shape=(n, c, s))
        stat = (1, c, 1)
        mean3, var3 = Reshape.apply(mean, shape=stat), Reshape.apply(var, shape=stat)
        dx = dw = db = None
        if dy is not None:
            if core.recording:
                dx, dw, db = _batch_norm_grad_ops(x3, Reshape.apply(dy, shape=(n, c, s)), mean3,
                                                  var3, Reshape.apply(w, shape=stat),
                                                  ctx.attrs["eps"])
            else:
                dx, dw, db = BatchNormGrad.apply(x, dy, mean, var, w, eps=ctx.attrs["eps"],
                                                 need_dx=ctx.needs_input_grad[0])
                dx = Reshape.apply(dx, shape=(n, c, s)) if ctx.needs_input_grad[0] else None
        extra = _stats_grad(x3, mean3, var3, _reshape(dmean, stat), _reshape(dvar, stat), n * s)
        if extra is not None:
            dx = extra if dx is None else dx + extra
        dx = None if dx is None else Reshape.apply(dx, shape=x.shape)
        return _as_dtype_of(dx, x), _as_dtype_of(dw, w), _as_dtype_of(db, w)


def _reshape(t, shape):
    return None if t is None else Reshape.apply(t, shape=shape)


def _batch_norm_grad_ops(x3, dy3, mean3, var3, w3, eps):
    """The fused backward as differentiable ops; x3, dy3 (N, C, S), stats and w3 (1, C, 1)."""
    m = x3.shape[0] * x3.shape[2]
    rstd = (var3 + eps) ** -0.5
    xhat = (x3 - mean3) * rstd
    axes = (0, 2)
    db = Sum.apply(dy3, axis=axes, keepdims=True)
    dw = Sum.apply(dy3 * xhat, axis=axes, keepdims=True)
    dx = (w3 * rstd) * (dy3 - db * (1.0 / m) - xhat * (dw * (1.0 / m)))
    c = x3.shape[1]
    return dx, Reshape.apply(dw, shape=(c,)), Reshape.apply(db, shape=(c,))


class BatchNormGrad(Op):
    """(dx, dweight, dbias) of BatchNorm from x, dy, its mean and var and the weight. dx is an
    empty array when need_dx is False. BatchNorm.backward switches to differentiable ops when the
    backward itself is recorded, so this op is never differentiated."""

    n_outputs = 3
    differentiable = False

    def forward(xp, x, dy, mean, var, weight, eps, need_dx):
        dx, dw, db = cpu_kernels(xp, "BatchNormGrad").batch_norm_backward(
            f32(x), f32(dy), mean, var, f32(weight), eps, need_dx)
        dx = np.empty((0,), x.dtype) if dx is None else to_dtype(dx, x.dtype)
        return dx, _cast(dw, weight), _cast(db, weight)


class BatchNormRelu(Op):
    """relu(BatchNorm(x)) in one pass: outputs z = relu(y), mean, var (BatchNorm's). The same
    bits as BatchNorm then Relu (the kernel applies kernels::relu_forward to each normalised
    value); y itself is never stored. A traced training step uses it where a BatchNorm's output
    is read by a ReLU alone (engine/jit/fusion.py)."""

    n_outputs = 3
    save_outputs = True

    def forward(xp, x, weight, bias, eps):
        z, mean, var = cpu_kernels(xp, "BatchNormRelu").batch_norm_forward(
            f32(x), f32(weight), f32(bias), eps, relu=True)
        return to_dtype(z, x.dtype), mean, var

    def backward(ctx, dz, dmean, dvar):
        from .nn import ReluGrad

        # BatchNorm's backward reads only the inputs and the statistics of ctx, which are this
        # op's too; the gradient reaching y is the ReLU's
        dy = None if dz is None else ReluGrad.apply(dz, ctx.outputs[0])
        return BatchNorm.backward(ctx, dy, dmean, dvar)


class BatchNormReluGrad(Op):
    """BatchNormGrad of relu's gradient: (dx, dweight, dbias) from x, dz (the gradient of
    z = relu(batch norm)), z, the mean and var and the weight, the ReLU's gradient applied on
    the fly: the bits of ReluGrad then BatchNormGrad, without the intermediate dy. dx is an empty
    array when need_dx is False."""

    n_outputs = 3
    differentiable = False

    def forward(xp, x, dz, z, mean, var, weight, eps, need_dx):
        dx, dw, db = cpu_kernels(xp, "BatchNormReluGrad").batch_norm_backward(
            f32(x), f32(dz), mean, var, f32(weight), eps, need_dx, relu_out=f32(z))
        dx = np.empty((0,), x.dtype) if dx is None else to_dtype(dx, x.dtype)
        return dx, _cast(dw, weight), _cast(db, weight)


class GroupNorm(Op):
    """Group norm of x (N, C, ...) in `groups` groups of C / groups channels; weight and bias
    (C,) per channel. Outputs y, mean (N, groups), var (N, groups)."""

    n_outputs = 3
    save_outputs = True

    def forward(xp, x, weight, bias, groups, eps):
        y, mean, var = cpu_kernels(xp, "GroupNorm").group_norm_forward(f32(x), groups, f32(weight),
                                                                    f32(bias), eps)
        return to_dtype(y, x.dtype), mean, var

    def backward(ctx, dy, dmean, dvar):
        x, w, _ = ctx.inputs
        _, mean, var = ctx.outputs
        groups, eps = ctx.attrs["groups"], ctx.attrs["eps"]
        n, c = x.shape[:2]
        m = (c // groups) * int(np.prod(x.shape[2:], dtype=np.int64))
        xg = Reshape.apply(x, shape=(n, groups, m))
        stat = (n, groups, 1)
        mean3, var3 = Reshape.apply(mean, shape=stat), Reshape.apply(var, shape=stat)
        need_x, need_w, need_b = ctx.needs_input_grad
        dx = dw = db = None
        if dy is not None:
            if core.recording:
                dx, dw, db = _group_norm_grad_ops(x, dy, mean3, var3, w, groups, eps)
            else:
                dx, dw, db = GroupNormGrad.apply(x, dy, mean, var, w, groups=groups, eps=eps,
                                                 need_dx=need_x, need_affine=need_w or need_b)
                dx = dx if need_x else None
                dw, db = (dw, db) if need_w or need_b else (None, None)
            if dx is not None:
                dx = Reshape.apply(dx, shape=(n, groups, m))
        extra = _stats_grad(xg, mean3, var3, _reshape(dmean, stat), _reshape(dvar, stat), m)
        if extra is not None:
            dx = extra if dx is None else dx + extra
        dx = None if dx is None else Reshape.apply(dx, shape=x.shape)
        return _as_dtype_of(dx, x), _as_dtype_of(dw, w), _as_dtype_of(db, w)


def _group_norm_grad_ops(x, dy, mean3, var3, w, groups, eps):
    """The fused backward as differentiable ops; x, dy (N, C, ...), stats (N, groups, 1)."""
    n, c = x.shape[:2]
    s = int(np.prod(x.shape[2:], dtype=np.int64))
    cg = c // groups
    x4 = Reshape.apply(x, shape=(n, groups, cg, s))
    dy4 = Reshape.apply(dy, shape=(n, groups, cg, s))
    w4 = Reshape.apply(w, shape=(1, groups, cg, 1))
    mean4 = Reshape.apply(mean3, shape=(n, groups, 1, 1))
    rstd = (Reshape.apply(var3, shape=(n, groups, 1, 1)) + eps) ** -0.5
    xhat = (x4 - mean4) * rstd
    g = dy4 * w4
    m = cg * s
    mean_g = Sum.apply(g, axis=(2, 3), keepdims=True) * (1.0 / m)
    mean_gxhat = Sum.apply(g * xhat, axis=(2, 3), keepdims=True) * (1.0 / m)
    dx = rstd * (g - mean_g - xhat * mean_gxhat)
    dw = Reshape.apply(Sum.apply(dy4 * xhat, axis=(0, 3), keepdims=False), shape=(c,))
    db = Reshape.apply(Sum.apply(dy4, axis=(0, 3), keepdims=False), shape=(c,))
    return dx, dw, db


class GroupNormGrad(Op):
    """(dx, dweight, dbias) of GroupNorm; an empty array for each one not asked for. Never
    differentiated (GroupNorm.backward uses differentiable ops when it is recorded)."""

    n_outputs = 3
    differentiable = False

    def forward(xp, x, dy, mean, var, weight, groups, eps, need_dx, need_affine):
        dx, dw, db = cpu_kernels(xp, "GroupNormGrad").group_norm_backward(
            f32(x), f32(dy), mean, var, groups, f32(weight), eps, need_dx, need_affine)
        empty = np.empty((0,), np.float32)
        dx = empty.astype(x.dtype) if dx is None else to_dtype(dx, x.dtype)
        return dx, empty if dw is None else _cast(dw, weight), empty if db is None else _cast(
            db, weight)
