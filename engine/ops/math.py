"""Linear algebra, sorting and scans: matmul, sort, topk, cumsum."""
import numpy as _np

from .._native import _C
from . import _gemm
from ._kernels import _F32
from .core import Op
from .elemwise import sum_to
from .indexing import GatherGrad
from .reduce import _LOW
from .shape import Flip


class Matmul(Op):
    """Batched matrix product of tensors with ndim >= 2 (1-D handled in F.matmul)."""

    def forward(xp, a, b, transpose_a, transpose_b):
        if (a.dtype is _F32 and b.dtype is _F32 and a.ndim == 2 and b.ndim == 2 and xp is _np
                and _C is not None):
            # two float32 matrices (the common case: Linear is x @ w.T), no Python between; the
            # GEMM reads a transposed view in place
            return _C.gemm(a.T if transpose_a else a, b.T if transpose_b else b)
        if transpose_a:
            a = xp.swapaxes(a, -1, -2)
        if transpose_b:
            b = xp.swapaxes(b, -1, -2)
        if a.dtype in _LOW and a.dtype == b.dtype:
            # float32 accumulation (MegEngine's compute_mode="float32"); numpy has no fast
            # float16 GEMM either
            a32, b32 = a.astype("float32"), b.astype("float32")
            if _gemm.usable(xp, a32, b32):
                return _gemm.matmul(a32, b32).astype(a.dtype)
            return xp.matmul(a32, b32).astype(a.dtype)
        if _gemm.usable(xp, a, b):
            return _gemm.matmul(a, b)  # engine's GEMM, whatever BLAS numpy has
        return xp.matmul(a, b)

    def backward(ctx, dy):
        a, b = ctx.inputs
        ta, tb = ctx.attrs["transpose_a"], ctx.attrs["transpose_b"]
        na, nb = ctx.needs_input_grad
        mm = Matmul.apply
        da = db = None
        # Each case is the adjoint of y = op(a) @ op(b), written without explicit transposes.
        if na:
            if ta:
                da = mm(b, dy, transpose_a=tb, transpose_b=True)
            else:
                da = mm(dy, b, transpose_a=False, transpose_b=not tb)
            da = sum_to(da, a.shape)
        if nb:
            if tb:
                db = mm(dy, a, transpose_a=True, transpose_b=ta)
            else:
                db = mm(a, dy, transpose_a=not ta, transpose_b=False)
            db = sum_to(db, b.shape)
        return da, db


def _order(xp, x, descending):
    """Stable argsort along the last axis."""
    if descending:
        # reversing a stable ascending sort of the reversed row keeps equal keys in order
        n = x.shape[-1]
        rev = xp.argsort(x[..., ::-1], axis=-1, kind="stable")[..., ::-1]
        return n - 1 - rev
    return xp.argsort(x, axis=-1, kind="stable")


class Sort(Op):
    """(sorted values, int32 indices) along the last axis."""

    n_outputs = 2
    save_outputs = True

    def forward(xp, x, descending):
        idx = _order(xp, x, descending)
        return xp.take_along_axis(x, idx, axis=-1), idx.astype("int32")

    def backward(ctx, dv, di):
        x = ctx.inputs[0]
        return GatherGrad.apply(dv, ctx.outputs[1], axis=x.ndim - 1, shape=x.shape)


class TopK(Op):
    """k largest (descending) or smallest values along the last axis, with int32 indices."""

    n_outputs = 2
    save_outputs = True

    def forward(xp, x, k, descending, kth_only, no_sort):
        idx = _order(xp, x, descending)[..., :k]
        if kth_only:
            idx = idx[..., k - 1:k]
        vals = xp.take_along_axis(x, idx, axis=-1)
        if kth_only:
            return vals[..., 0], idx[..., 0].astype("int32")
        return vals, idx.astype("int32")

    def backward(ctx, dv, di):
        x = ctx.inputs[0]
        idx = ctx.outputs[1]
        if ctx.attrs["kth_only"]:
            from .shape import Reshape

            dv = Reshape.apply(dv, shape=dv.shape + (1,))
            idx = Reshape.apply(idx, shape=idx.shape + (1,))
        return GatherGrad.apply(dv, idx, axis=x.ndim - 1, shape=x.shape)


class CumSum(Op):
    def forward(xp, x, axis):
        if x.dtype in _LOW:
            return xp.cumsum(x, axis=axis, dtype="float32").astype(x.dtype)
        return xp.cumsum(x, axis=axis, dtype=x.dtype if x.dtype.kind == "f" else "int32")

    def backward(ctx, dy):
        axis = ctx.attrs["axis"]
        return Flip.apply(CumSum.apply(Flip.apply(dy, axis=axis), axis=axis), axis=axis)
