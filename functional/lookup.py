"""Table lookups (MegEngine's names): embedding and indexing_one_hot, composed from indexing
ops (their gradients scatter back into the table)."""
from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import indexing as I
from engine.ops import shape as S

from ._utils import as_tensor, one_axis

__all__ = ["embedding", "indexing_one_hot"]


def embedding(inp, weight, padding_idx=None, max_norm=None, norm_type=None):
    r"""Look up rows of ``weight`` (num_embeddings, dim) for the indices ``inp``.

    Args:
        inp: integer tensor of indices, any shape.
        weight: (num_embeddings, dim) table.
        padding_idx: not supported, must be None (as MegEngine).
        max_norm: not supported, must be None (as MegEngine).
        norm_type: not supported, must be None (as MegEngine).

    Returns:
        a tensor of shape inp.shape + (dim,).

    Examples:
        >>> w = Tensor([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
        >>> F.embedding(Tensor([[2, 0]]), w).numpy()
        array([[[4., 5.],
                [0., 1.]]], dtype=float32)
    """
    fn = "embedding"
    if padding_idx is not None:
        raise ValueError(f"{fn}: padding_idx is not supported, got {padding_idx!r}")
    if max_norm is not None or norm_type is not None:
        raise ValueError(f"{fn}: max_norm / norm_type (weight normalization) are not supported")
    weight = as_tensor(weight, fn)
    inp = as_tensor(inp, fn, like=weight)
    if inp.dtype.kind not in "iu":
        raise TypeError(f"{fn}: inp must be an integer tensor of indices, got {inp.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"{fn}: weight must be (num_embeddings, dim), got shape {weight.shape}")
    n = weight.shape[0]
    if inp.size and (int(inp.min()) < 0 or int(inp.max()) >= n):
        raise IndexError(f"{fn}: indices must be in [0, {n}), got range "
                         f"[{int(inp.min())}, {int(inp.max())}]")
    flat = S.Reshape.apply(inp, shape=(-1,))
    rows = I.getitem(weight, flat)
    return S.Reshape.apply(rows, shape=inp.shape + (weight.shape[1],))


def indexing_one_hot(src, index, axis=1, keepdims=False):
    r"""``out[..., 0, ...] = src[..., index[...], ...]`` along ``axis``: pick one entry of
    ``axis`` per position (e.g. the score of each sample's label).

    Args:
        src: input tensor.
        index: integer tensor of src's shape without ``axis``.
        axis: the axis to pick along.
        keepdims: keep ``axis`` as size 1.

    Returns:
        the picked values.

    Examples:
        >>> src = Tensor([[1.0, 2.0]])
        >>> index = Tensor([0])
        >>> val = F.indexing_one_hot(src, index)
        >>> val.numpy()
        array([1.], dtype=float32)
    """
    fn = "indexing_one_hot"
    src = as_tensor(src, fn)
    index = as_tensor(index, fn, like=src)
    axis = one_axis(axis, src.ndim, fn)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{fn}: index must be an integer tensor, got {index.dtype}")
    want = src.shape[:axis] + src.shape[axis + 1:]
    if index.shape != want:
        raise ValueError(f"{fn}: index of shape {index.shape} must be src's shape {src.shape} "
                         f"without axis {axis}, i.e. {want}")
    n = src.shape[axis]
    if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
        raise IndexError(f"{fn}: index values must be in [0, {n}), got range "
                         f"[{int(index.min())}, {int(index.max())}]")
    if index.dtype != _dt.int32:
        index = E.Cast.apply(index, dtype=_dt.int32)
    kept = src.shape[:axis] + (1,) + src.shape[axis + 1:]
    out = I.Gather.apply(src, S.Reshape.apply(index, shape=kept), axis=axis)
    return out if keepdims else S.Reshape.apply(out, shape=want)
