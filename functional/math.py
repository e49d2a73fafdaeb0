"""Reductions, norms, sorting, scans and matrix products."""
import builtins

import numpy as np

from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import math as M
from engine.ops import reduce as R
from engine.ops import shape as S
from engine.tensor import Tensor

from ._utils import as_tensor, check_float, norm_axis, one_axis
from .elemwise import abs, clip, sqrt

__all__ = ["sum", "mean", "max", "min", "prod", "var", "std", "norm", "normalize", "argmax",
           "argmin", "topk", "sort", "argsort", "cumsum", "matmul", "dot"]


def _reduce(op, fn, inp, axis, keepdims):
    inp = as_tensor(inp, fn)
    axis = norm_axis(axis, inp.ndim, fn)
    if inp.dtype.kind == "c":
        raise TypeError(f"{fn}: complex input is not supported (dtype {inp.dtype})")
    if op in (R.Max, R.Min) and inp.size == 0:
        raise ValueError(f"{fn}: reduction over an empty tensor of shape {inp.shape}")
    return op.apply(inp, axis=axis, keepdims=bool(keepdims))


def sum(inp, axis=None, keepdims=False):
    """Adds up the elements of a tensor over the given axis or axes.

    Dtypes as MegEngine: int8, uint8 and int16 sums keep their dtype (wrapping around on
    overflow); bool and int32 sum to int32; floats keep their dtype.

    Args:
        inp: input tensor.
        axis: axis or axes to reduce (an int or a tuple of ints, negative counts from the end);
            None reduces over all elements.
        keepdims: if True, the reduced axes stay in the result with size 1, so it broadcasts
            against ``inp``.

    Returns:
        the sums; the sum of no elements is 0.

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.sum(x).numpy()
        array(21, dtype=int32)
        >>> F.sum(x, axis=0).numpy()
        array([5, 7, 9], dtype=int32)
        >>> F.sum(x, axis=1, keepdims=True).numpy()
        array([[ 6],
               [15]], dtype=int32)
        >>> F.sum(Tensor(np.array([100, 100], "int8"))).numpy()
        array(-56, dtype=int8)
        >>> F.sum(Tensor([True, False, True])).numpy()
        array(2, dtype=int32)
    """
    out = _reduce(R.Sum, "sum", inp, axis, keepdims)
    src = out.dtype if not isinstance(inp, Tensor) else inp._storage.array.dtype
    if src.kind in "iu" and src.itemsize < 4:
        out = E.Cast.apply(out, dtype=src)
    return out


def prod(inp, axis=None, keepdims=False):
    """Multiplies the elements of a tensor over the given axis or axes.

    Args:
        inp: input tensor.
        axis: axis or axes to reduce (an int or a tuple of ints, negative counts from the end);
            None reduces over all elements.
        keepdims: if True, the reduced axes stay in the result with size 1, so it broadcasts
            against ``inp``.

    Returns:
        the products, a tensor of ``inp``'s dtype. The product of no elements is 1; integer
        products wrap around on overflow.

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.prod(x).numpy()
        array(720, dtype=int32)
        >>> F.prod(x, axis=0).numpy()
        array([ 4, 10, 18], dtype=int32)
        >>> F.prod(Tensor([0.5, 1.5])).numpy()
        array(0.75, dtype=float32)
    """
    return _reduce(R.Prod, "prod", inp, axis, keepdims)


def max(inp, axis=None, keepdims=False):
    """Largest element of a tensor over the given axis or axes.

    Args:
        inp: input tensor (not empty).
        axis: axis or axes to reduce (an int or a tuple of ints, negative counts from the end);
            None reduces over all elements.
        keepdims: if True, the reduced axes stay in the result with size 1, so it broadcasts
            against ``inp``.

    Returns:
        the maxima, a tensor of ``inp``'s dtype.

    Examples:
        >>> x = Tensor([[1, 5, 3], [4, 2, 6]])
        >>> F.max(x).numpy()
        array(6, dtype=int32)
        >>> F.max(x, axis=1).numpy()
        array([5, 6], dtype=int32)
        >>> F.max(x, axis=0, keepdims=True).numpy()
        array([[4, 5, 6]], dtype=int32)
    """
    return _reduce(R.Max, "max", inp, axis, keepdims)


def min(inp, axis=None, keepdims=False):
    """Smallest element of a tensor over the given axis or axes.

    Args:
        inp: input tensor (not empty).
        axis: axis or axes to reduce (an int or a tuple of ints, negative counts from the end);
            None reduces over all elements.
        keepdims: if True, the reduced axes stay in the result with size 1, so it broadcasts
            against ``inp``.

    Returns:
        the minima, a tensor of ``inp``'s dtype.

    Examples:
        >>> x = Tensor([[1, 5, 3], [4, 2, 6]])
        >>> F.min(x).numpy()
        array(1, dtype=int32)
        >>> F.min(x, axis=1).numpy()
        array([1, 2], dtype=int32)
        >>> F.min(x, axis=0, keepdims=True).numpy()
        array([[1, 2, 3]], dtype=int32)
    """
    return _reduce(R.Min, "min", inp, axis, keepdims)


def _count(inp, axis):
    n = 1
    for a in (range(inp.ndim) if axis is None else axis):
        n *= inp.shape[a]
    return n


def mean(inp, axis=None, keepdims=False):
    """Arithmetic mean of the elements over the given axis or axes.

    Args:
        inp: input tensor; integer and float16 input give float32 (MegEngine's rule).
        axis: axis or axes to reduce (an int or a tuple of ints, negative counts from the end);
            None reduces over all elements.
        keepdims: if True, the reduced axes stay in the result with size 1, so it broadcasts
            against ``inp``.

    Returns:
        the means, a floating-point tensor (float32 for integer and float16 input).

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.mean(x).numpy()
        array(3.5, dtype=float32)
        >>> F.mean(x, axis=1).numpy()
        array([2., 5.], dtype=float32)
        >>> F.mean(x, axis=0, keepdims=True).numpy()
        array([[2.5, 3.5, 4.5]], dtype=float32)
    """
    inp = as_tensor(inp, "mean")
    if inp.dtype != _dt.float32:
        inp = E.Cast.apply(inp, dtype=_dt.float32)
    ax = norm_axis(axis, inp.ndim, "mean")
    return R.Sum.apply(inp, axis=ax, keepdims=bool(keepdims)) / _count(inp, ax)


def var(inp, axis=None, keepdims=False):
    """Population variance (the mean squared deviation from the mean, ddof 0).

    Args:
        inp: input tensor.
        axis: axis or axes to reduce (an int or a tuple of ints, negative counts from the end);
            None reduces over all elements.
        keepdims: if True, the reduced axes stay in the result with size 1, so it broadcasts
            against ``inp``.

    Returns:
        the variances, a floating-point tensor.

    Examples:
        >>> x = Tensor([[1., 2.], [3., 5.]])
        >>> F.var(x).numpy()
        array(2.1875, dtype=float32)
        >>> F.var(x, axis=1).numpy()
        array([0.25, 1.  ], dtype=float32)
    """
    inp = as_tensor(inp, "var")
    axis = norm_axis(axis, inp.ndim, "var")
    d = inp - mean(inp, axis, keepdims=True)
    return mean(d * d, axis, keepdims)


def std(inp, axis=None, keepdims=False):
    """Population standard deviation (square root of :func:`var`, ddof 0).

    Args:
        inp: input tensor.
        axis: axis or axes to reduce (an int or a tuple of ints, negative counts from the end);
            None reduces over all elements.
        keepdims: if True, the reduced axes stay in the result with size 1, so it broadcasts
            against ``inp``.

    Returns:
        the standard deviations, a floating-point tensor.

    Examples:
        >>> x = Tensor([[1., 3.], [2., 6.]])
        >>> F.std(x).numpy()
        array(1.8708287, dtype=float32)
        >>> F.std(x, axis=1).numpy()
        array([1., 2.], dtype=float32)
    """
    inp = as_tensor(inp, "std")
    return sqrt(var(inp, norm_axis(axis, inp.ndim, "std"), keepdims))


def norm(inp, ord=None, axis=None, keepdims=False):
    """Vector p-norm, ``sum(|x| ** ord) ** (1 / ord)``, over an axis. As MegEngine, axis None
    is only for a vector (1-D input); other inputs raise a TypeError.

    ``ord=0`` counts the non-zero elements, ``ord=inf`` is the largest and ``ord=-inf`` the
    smallest absolute value. Dtypes as MegEngine: ord=0 gives int32, ord=+-inf keeps the input
    dtype (integers stay integers), other orders compute in float32 for integer input.
    (MegEngine takes ord=+-inf over all elements whatever ``axis`` says; engine honours
    ``axis`` for every ord.)

    Args:
        inp: input tensor.
        ord: the order of the norm; None means 2.
        axis: the axis (or axes) to reduce; None only for a vector (reduces its elements).
        keepdims: if True, the reduced axes stay in the result with size 1.

    Returns:
        the norms.

    Examples:
        >>> x = Tensor([[3., -4.], [1., 0.]])
        >>> F.norm(x, axis=1).numpy()
        array([5., 1.], dtype=float32)
        >>> F.norm(x, ord=1, axis=1).numpy()
        array([7., 1.], dtype=float32)
        >>> F.norm(x, ord=0, axis=1).numpy()
        array([2, 1], dtype=int32)
        >>> F.norm(x, axis=1, keepdims=True).numpy()
        array([[5.],
               [1.]], dtype=float32)
        >>> F.norm(Tensor([3, -4])).numpy()
        array(5., dtype=float32)
        >>> F.norm(Tensor([3, -4]), ord=float("inf")).numpy()
        array(4, dtype=int32)
    """
    inp = as_tensor(inp, "norm")
    if axis is None and inp.ndim != 1:  # MegEngine's rule and message
        raise TypeError(f"norm: axis is required unless input is a vector (got shape "
                        f"{inp.shape})")
    p = 2 if ord is None else ord
    if p == float("inf"):
        return max(abs(inp), axis, keepdims)
    if p == -float("inf"):
        return min(abs(inp), axis, keepdims)
    if p == 0:
        return sum(E.Cast.apply(inp != 0, dtype=_dt.int32), axis, keepdims)
    if inp.dtype.kind in "iub":  # integer input computes in float32 (as MegEngine)
        inp = E.Cast.apply(inp, dtype=_dt.float32)
    check_float(inp, "norm")
    if p == 1:
        return sum(abs(inp), axis, keepdims)
    if p == 2:
        return sqrt(sum(inp * inp, axis, keepdims))
    return sum(abs(inp) ** p, axis, keepdims) ** (1.0 / p)


def normalize(inp, ord=None, axis=None, eps=1e-12):
    """Divides ``inp`` by its p-norm along ``axis``: ``inp / max(norm(inp), eps)``.

    Args:
        inp: floating-point input tensor.
        ord: the order of the norm, as in :func:`norm` (None means 2).
        axis: the axis along which to normalize; None only for a vector (as :func:`norm`).
        eps: lower bound of the divisor, which keeps zero vectors finite.

    Returns:
        a tensor of ``inp``'s shape and dtype.

    Examples:
        >>> x = Tensor([[3., 4.], [0., 0.]])
        >>> F.normalize(x, axis=1).numpy()
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
        >>> F.normalize(Tensor([1., 3.]), ord=1).numpy()
        array([0.25, 0.75], dtype=float32)
    """
    return inp / clip(norm(inp, ord, axis, keepdims=True), lower=eps)


def _arg(op, fn, inp, axis, keepdims):
    inp = as_tensor(inp, fn)
    if inp.size == 0:
        raise ValueError(f"{fn}: empty tensor of shape {inp.shape}")
    if axis is None:
        out = op.apply(S.Reshape.apply(inp, shape=(-1,)), axis=0, keepdims=False)
        return S.Reshape.apply(out, shape=(1,) * inp.ndim) if keepdims else out
    if isinstance(axis, (tuple, list)):
        # Several axes: as MegEngine, one reduction per axis from the last one; each later
        # step reduces the indices the previous one produced (not a joint arg over the block).
        out = inp
        for a in sorted(norm_axis(axis, inp.ndim, fn), reverse=True):
            out = op.apply(out, axis=a, keepdims=bool(keepdims))
        return out
    return op.apply(inp, axis=one_axis(axis, inp.ndim, fn), keepdims=bool(keepdims))


def argmax(inp, axis=None, keepdims=False):
    """Index of the largest element along an axis (the first one on ties).

    Args:
        inp: input tensor (not empty).
        axis: an int; None looks over the flattened tensor.
        keepdims: if True, the reduced axis stays in the result with size 1.

    Returns:
        an int32 tensor of indices.

    Examples:
        >>> x = Tensor([[1, 5, 3], [7, 2, 7]])
        >>> F.argmax(x).numpy()
        array(3, dtype=int32)
        >>> F.argmax(x, axis=1).numpy()
        array([1, 0], dtype=int32)
        >>> F.argmax(x, axis=0, keepdims=True).numpy()
        array([[1, 0, 1]], dtype=int32)
    """
    return _arg(R.ArgMax, "argmax", inp, axis, keepdims)


def argmin(inp, axis=None, keepdims=False):
    """Index of the smallest element along an axis (the first one on ties).

    Args:
        inp: input tensor (not empty).
        axis: an int; None looks over the flattened tensor.
        keepdims: if True, the reduced axis stays in the result with size 1.

    Returns:
        an int32 tensor of indices.

    Examples:
        >>> x = Tensor([[4, 1, 3], [0, 2, 0]])
        >>> F.argmin(x).numpy()
        array(3, dtype=int32)
        >>> F.argmin(x, axis=1).numpy()
        array([1, 0], dtype=int32)
        >>> F.argmin(x, axis=0, keepdims=True).numpy()
        array([[1, 0, 1]], dtype=int32)
    """
    return _arg(R.ArgMin, "argmin", inp, axis, keepdims)


def _check_sortable(inp, fn):
    inp = as_tensor(inp, fn)
    if inp.ndim not in (1, 2):
        raise ValueError(f"{fn}: expected a 1-D or 2-D tensor (sorted along the last axis), got "
                         f"shape {inp.shape}")
    return inp


def sort(inp, descending=False):
    """Sorts a 1-D tensor, or each row of a 2-D tensor, along the last axis.

    Args:
        inp: a 1-D or 2-D tensor.
        descending: if True the largest comes first.

    Returns:
        a tuple (sorted values, int32 indices into the last axis of ``inp``).

    Examples:
        >>> values, indices = F.sort(Tensor([3., 1., 2.]))
        >>> values.numpy(), indices.numpy()
        (array([1., 2., 3.], dtype=float32), array([1, 2, 0], dtype=int32))
        >>> values, indices = F.sort(Tensor([[2, 9, 4], [8, 1, 5]]), descending=True)
        >>> values.numpy()
        array([[9, 4, 2],
               [8, 5, 1]], dtype=int32)
        >>> indices.numpy()
        array([[1, 2, 0],
               [0, 2, 1]], dtype=int32)
    """
    return M.Sort.apply(_check_sortable(inp, "sort"), descending=bool(descending))


def argsort(inp, descending=False):
    """Indices that sort a 1-D tensor, or each row of a 2-D tensor, along the last axis.

    Args:
        inp: a 1-D or 2-D tensor.
        descending: if True the index of the largest comes first.

    Returns:
        an int32 tensor of ``inp``'s shape.

    Examples:
        >>> F.argsort(Tensor([3., 1., 2.])).numpy()
        array([1, 2, 0], dtype=int32)
        >>> F.argsort(Tensor([[2, 9, 4], [8, 1, 5]]), descending=True).numpy()
        array([[1, 2, 0],
               [0, 2, 1]], dtype=int32)
    """
    return sort(inp, descending)[1]


def topk(inp, k, descending=True, kth_only=False, no_sort=False):
    """Selects the k largest (or smallest) entries of a vector or of each row of a matrix.

    As MegEngine, a k larger than the axis size n gives all of its entries (min(k, n)), and a
    negative k means the |k| entries of the other order; k = 0 is an error.

    Args:
        inp: a 1-D or 2-D tensor (each row of a 2-D one is searched).
        k: the number of entries to select.
        descending: if True (the default) the largest entries, else the smallest.
        kth_only: if True, only the k-th entry of each row (the last axis is dropped).
        no_sort: MegEngine's leave to return the k entries in any order; engine's are always
            sorted, so it has no effect.

    Returns:
        a tuple (values, indices): the values in ``inp``'s dtype and their int32 positions
        along the last axis.

    Examples:
        >>> x = Tensor([[2., 7., 1., 5.], [4., 3., 8., 0.]])
        >>> values, indices = F.topk(x, 2)
        >>> values.numpy()
        array([[7., 5.],
               [8., 4.]], dtype=float32)
        >>> indices.numpy()
        array([[1, 3],
               [2, 0]], dtype=int32)
        >>> F.topk(x, 2, descending=False)[0].numpy()
        array([[1., 2.],
               [0., 3.]], dtype=float32)
        >>> F.topk(x, 2, kth_only=True)[0].numpy()
        array([5., 4.], dtype=float32)
        >>> F.topk(Tensor([2., 7., 1.]), 5)[0].numpy()
        array([7., 2., 1.], dtype=float32)
        >>> F.topk(Tensor([2., 7., 1.]), -2)[0].numpy()
        array([1., 2.], dtype=float32)
    """
    inp = _check_sortable(inp, "topk")
    k = int(k)
    n = inp.shape[-1]
    if k < 0:
        k, descending = -k, not descending
    k = builtins.min(k, n)
    if k == 0:
        raise ValueError(f"topk: k must not be 0 (last axis of size {n})")
    return M.TopK.apply(inp, k=k, descending=bool(descending), kth_only=bool(kth_only),
                        no_sort=bool(no_sort))


def cumsum(inp, axis):
    """Cumulative sum along an axis: element i is the sum of elements 0..i.

    Args:
        inp: input tensor.
        axis: the axis to accumulate along (negative counts from the end).

    Returns:
        a tensor of ``inp``'s shape and dtype.

    Examples:
        >>> x = Tensor([[1, 2, 3], [4, 5, 6]])
        >>> F.cumsum(x, axis=1).numpy()
        array([[ 1,  3,  6],
               [ 4,  9, 15]], dtype=int32)
        >>> F.cumsum(x, axis=0).numpy()
        array([[1, 2, 3],
               [5, 7, 9]], dtype=int32)
    """
    inp = as_tensor(inp, "cumsum")
    return M.CumSum.apply(inp, axis=one_axis(axis, inp.ndim, "cumsum"))


def matmul(inp1, inp2, transpose_a=False, transpose_b=False, compute_mode="default",
           format="default"):
    """Matrix product of two tensors, with numpy's rules for batches and vectors.

    2-D operands multiply as matrices; operands with more dims are stacks of matrices whose
    leading (batch) dims broadcast; a 1-D first operand is a row vector and a 1-D second
    operand a column vector, and the added axis is dropped from the result.

    Args:
        inp1: first operand, at least 1-D.
        inp2: second operand, at least 1-D.
        transpose_a: multiply by the transpose of the last two dims of ``inp1``.
        transpose_b: multiply by the transpose of the last two dims of ``inp2``.
        compute_mode: MegEngine's precision knob; it has no effect in engine (which computes
            in the operands' dtype).
        format: MegEngine's layout knob; it has no effect in engine.

    Returns:
        the product; integer operands are multiplied in float32.

    Examples:
        >>> a = Tensor([[1., 2.], [3., 4.]])
        >>> b = Tensor([[5., 6.], [7., 8.]])
        >>> F.matmul(a, b).numpy()
        array([[19., 22.],
               [43., 50.]], dtype=float32)
        >>> F.matmul(a, b, transpose_a=True).numpy()
        array([[26., 30.],
               [38., 44.]], dtype=float32)
        >>> F.matmul(a, Tensor([1., 1.])).numpy()
        array([3., 7.], dtype=float32)
        >>> batch = Tensor(np.ones((3, 2, 4), "float32"))
        >>> F.matmul(batch, Tensor(np.ones((4, 5), "float32"))).shape
        (3, 2, 5)
    """
    if type(inp1) is Tensor and type(inp2) is Tensor and not (transpose_a or transpose_b):
        # the common case, checked once on the arrays: two float matrices of one dtype
        x, y = inp1._storage.array, inp2._storage.array
        sa, sb = x.shape, y.shape
        if (len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0] and x.dtype is y.dtype
                and x.dtype in _dt._FLOAT_SET):
            return M.Matmul.apply(inp1, inp2, transpose_a=False, transpose_b=False)
    a, b = E.operands(inp1, inp2)
    sa, sb = a.shape, b.shape  # read once: this runs per call on the eager hot path
    if not sa or not sb:
        raise ValueError(f"matmul: operands must have at least 1 dim, got shapes {sa} and {sb}")
    a_vec, b_vec = len(sa) == 1, len(sb) == 1
    if a_vec:
        sa = (1, sa[0])
        a, transpose_a = S.Reshape.apply(a, shape=sa), False
    if b_vec:
        sb = (sb[0], 1)
        b, transpose_b = S.Reshape.apply(b, shape=sb), False
    ka = sa[-2] if transpose_a else sa[-1]
    kb = sb[-1] if transpose_b else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: inner dimensions differ: {ka} ({tuple(inp_shape(inp1))}"
                         f"{', transposed' if transpose_a else ''}) vs {kb} "
                         f"({tuple(inp_shape(inp2))}{', transposed' if transpose_b else ''})")
    try:
        if len(sa) > 2 or len(sb) > 2:
            _broadcast_batch(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of shapes {sa} and {sb} do not "
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
    """The shape of a tensor or array, ``()`` for a Python scalar (for error messages).

    Examples:
        >>> from engine.functional.math import inp_shape
        >>> inp_shape(Tensor(np.zeros((2, 3)))), inp_shape(1.5)
        ((2, 3), ())
    """
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
    """Inner product of two 1-D tensors of the same length.

    Args:
        inp1: a 1-D tensor.
        inp2: a 1-D tensor of the same length.

    Returns:
        a 0-d tensor holding ``sum(inp1 * inp2)``.

    Examples:
        >>> F.dot(Tensor([1., 2., 3.]), Tensor([4., 5., 6.])).numpy()
        array(32., dtype=float32)
    """
    a, b = E.operands(inp1, inp2)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: expected two 1-D tensors of equal length, got shapes {a.shape} "
                         f"and {b.shape}")
    return matmul(a, b)


def _check_non_finite(inps, scale=1.0):
    """1 (int32, shape (1,)) when any tensor of ``inps`` holds an inf or NaN, else 0; every
    tensor is multiplied by ``scale`` in place (MegEngine's helper for loss scaling).

    Args:
        inps: a list of tensors.
        scale: the factor applied to each tensor.

    Returns:
        an int32 tensor of shape (1,).

    Examples:
        >>> from engine.functional.math import _check_non_finite
        >>> _check_non_finite([Tensor([1.0, np.inf])]).numpy()
        array([1], dtype=int32)
    """
    if not isinstance(inps, (list, tuple)) or not inps:
        raise ValueError("_check_non_finite: expected a non-empty list of tensors")
    found = 0
    for t in inps:
        if _dt.is_float(t.dtype) and not found:
            bad = E.LogicalOr.apply(E.IsNan.apply(t), E.IsInf.apply(t))
            found = int(R.Sum.apply(E.Cast.apply(bad, dtype=_dt.int32), axis=None,
                                    keepdims=False).item() > 0)
        if scale != 1.0:
            t._reset(t * scale)
    return as_tensor(np.array([found], dtype=np.int32), "_check_non_finite", like=inps[0])
