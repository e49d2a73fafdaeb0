"""Reductions, norms, sorting, scans and matrix products."""
import builtins

from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import math as M
from engine.ops import reduce as R
from engine.ops import shape as S

from ._utils import as_tensor, check_float, norm_axis, one_axis
from .elemwise import abs, clip, sqrt

__all__ = ["sum", "mean", "max", "min", "prod", "var", "std", "norm", "normalize", "argmax",
           "argmin", "topk", "sort", "argsort", "cumsum", "matmul", "dot"]


def _reduce(op, fn, inp, axis, keepdims):
    inp = as_tensor(inp, fn)
    axis = norm_axis(axis, inp.ndim, fn)
    if op in (R.Max, R.Min) and inp.size == 0:
        raise ValueError(f"{fn}: reduction over an empty tensor of shape {inp.shape}")
    return op.apply(inp, axis=axis, keepdims=bool(keepdims))


def sum(inp, axis=None, keepdims=False):
    """Sum over `axis` (int, tuple or None for all)."""
    return _reduce(R.Sum, "sum", inp, axis, keepdims)


def prod(inp, axis=None, keepdims=False):
    return _reduce(R.Prod, "prod", inp, axis, keepdims)


def max(inp, axis=None, keepdims=False):
    return _reduce(R.Max, "max", inp, axis, keepdims)


def min(inp, axis=None, keepdims=False):
    return _reduce(R.Min, "min", inp, axis, keepdims)


def _count(inp, axis):
    n = 1
    for a in (range(inp.ndim) if axis is None else axis):
        n *= inp.shape[a]
    return n


def mean(inp, axis=None, keepdims=False):
    """Arithmetic mean; integer and float16 input give float32 (MegEngine's rule)."""
    inp = as_tensor(inp, "mean")
    if inp.dtype != _dt.float32:
        inp = E.Cast.apply(inp, dtype=_dt.float32)
    ax = norm_axis(axis, inp.ndim, "mean")
    return R.Sum.apply(inp, axis=ax, keepdims=bool(keepdims)) / _count(inp, ax)


def var(inp, axis=None, keepdims=False):
    """Population variance (ddof 0)."""
    inp = as_tensor(inp, "var")
    axis = norm_axis(axis, inp.ndim, "var")
    d = inp - mean(inp, axis, keepdims=True)
    return mean(d * d, axis, keepdims)


def std(inp, axis=None, keepdims=False):
    """Population standard deviation (ddof 0)."""
    inp = as_tensor(inp, "std")
    return sqrt(var(inp, norm_axis(axis, inp.ndim, "std"), keepdims))


def norm(inp, ord=None, axis=None, keepdims=False):
    """Vector p-norm over `axis` (all elements when None); ord None means 2."""
    inp = as_tensor(inp, "norm")
    check_float(inp, "norm")
    p = 2 if ord is None else ord
    if p == float("inf"):
        return max(abs(inp), axis, keepdims)
    if p == -float("inf"):
        return min(abs(inp), axis, keepdims)
    if p == 0:
        return sum(E.Cast.apply(inp != 0, dtype=inp.dtype), axis, keepdims)
    if p == 1:
        return sum(abs(inp), axis, keepdims)
    if p == 2:
        return sqrt(sum(inp * inp, axis, keepdims))
    return sum(abs(inp) ** p, axis, keepdims) ** (1.0 / p)


def normalize(inp, ord=None, axis=None, eps=1e-12):
    """inp / max(norm(inp), eps) along `axis`."""
    return inp / clip(norm(inp, ord, axis, keepdims=True), lower=eps)


def _arg(op, fn, inp, axis, keepdims):
    inp = as_tensor(inp, fn)
    if inp.size == 0:
        raise ValueError(f"{fn}: empty tensor of shape {inp.shape}")
    if axis is None:
        out = op.apply(S.Reshape.apply(inp, shape=(-1,)), axis=0, keepdims=False)
        return S.Reshape.apply(out, shape=(1,) * inp.ndim) if keepdims else out
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"{fn}: axis must be an int or None, got {axis!r}")
    return op.apply(inp, axis=one_axis(axis, inp.ndim, fn), keepdims=bool(keepdims))


def argmax(inp, axis=None, keepdims=False):
    """int32 index of the maximum (over the flattened tensor when axis is None)."""
    return _arg(R.ArgMax, "argmax", inp, axis, keepdims)


def argmin(inp, axis=None, keepdims=False):
    return _arg(R.ArgMin, "argmin", inp, axis, keepdims)


def _check_sortable(inp, fn):
    inp = as_tensor(inp, fn)
    if inp.ndim not in (1, 2):
        raise ValueError(f"{fn}: expected a 1-D or 2-D tensor (sorted along the last axis), got "
                         f"shape {inp.shape}")
    return inp


def sort(inp, descending=False):
    """(sorted values, int32 indices) along the last axis of a 1-D or 2-D tensor."""
    return M.Sort.apply(_check_sortable(inp, "sort"), descending=bool(descending))


def argsort(inp, descending=False):
    return sort(inp, descending)[1]


def topk(inp, k, descending=True, kth_only=False, no_sort=False):
    """The k largest (descending=True) or smallest entries along the last axis.

    Returns (values, int32 indices); with kth_only only the k-th entry of each row. no_sort
    allows any order; ours is always sorted.
    """
    inp = _check_sortable(inp, "topk")
    k = int(k)
    if not 1 <= k <= inp.shape[-1]:
        raise ValueError(f"topk: k={k} is out of range for a last axis of size {inp.shape[-1]}")
    return M.TopK.apply(inp, k=k, descending=bool(descending), kth_only=bool(kth_only),
                        no_sort=bool(no_sort))


def cumsum(inp, axis):
    inp = as_tensor(inp, "cumsum")
    return M.CumSum.apply(inp, axis=one_axis(axis, inp.ndim, "cumsum"))


def matmul(inp1, inp2, transpose_a=False, transpose_b=False, compute_mode="default",
           format="default"):
    """Matrix product with numpy's broadcasting of batch dims and 1-D promotion."""
    a, b = E.operands(inp1, inp2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dim, got shapes {a.shape} and "
                         f"{b.shape}")
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec:
        a, transpose_a = S.Reshape.apply(a, shape=(1, a.shape[0])), False
    if b_vec:
        b, transpose_b = S.Reshape.apply(b, shape=(b.shape[0], 1)), False
    ka = a.shape[-2] if transpose_a else a.shape[-1]
    kb = b.shape[-1] if transpose_b else b.shape[-2]
    if ka != kb:
        raise ValueError(f"matmul: inner dimensions differ: {ka} ({tuple(inp_shape(inp1))}"
                         f"{', transposed' if transpose_a else ''}) vs {kb} "
                         f"({tuple(inp_shape(inp2))}{', transposed' if transpose_b else ''})")
    try:
        _broadcast_batch(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of shapes {a.shape} and {b.shape} do not "
                         "broadcast") from None
    if not _dt.is_float(a.dtype):
        a, b = E.Cast.apply(a, dtype=_dt.float32), E.Cast.apply(b, dtype=_dt.float32)
    out = M.Matmul.apply(a, b, transpose_a=bool(transpose_a), transpose_b=bool(transpose_b))
    if a_vec or b_vec:  # drop the axes that 1-D promotion added
        shape = list(out.shape)
        if b_vec:
            shape.pop(-1)
        if a_vec:
            shape.pop(-1 if b_vec else -2)
        out = S.Reshape.apply(out, shape=tuple(shape))
    return out


def inp_shape(x):
    return getattr(x, "shape", ())


def _broadcast_batch(s1, s2):
    out = []
    for x, y in zip(((1,) * (len(s2) - len(s1)) + tuple(s1))[::-1],
                    ((1,) * (len(s1) - len(s2)) + tuple(s2))[::-1]):
        if x != y and 1 not in (x, y):
            raise ValueError
        out.append(builtins.max(x, y))
    return tuple(out[::-1])


def dot(inp1, inp2):
    """Inner product of two 1-D tensors (a 0-d tensor)."""
    a, b = E.operands(inp1, inp2)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: expected two 1-D tensors of equal length, got shapes {a.shape} "
                         f"and {b.shape}")
    return matmul(a, b)
