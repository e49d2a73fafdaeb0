"""Matrix functions with MegEngine's names: diag, matinv, svd (engine/ops/linalg.py)."""
from engine.ops import linalg as LA

from ._utils import as_tensor, check_float

__all__ = ["diag", "matinv", "svd"]


def diag(inp, k=0):
    r"""Extract a diagonal or construct a diagonal tensor.

    A 1-D input of length n becomes an (n + |k|, n + |k|) matrix with the input on diagonal k;
    a 2-D input gives its diagonal k as a 1-D tensor.

    Args:
        inp: 1-D or 2-D tensor.
        k: the diagonal: 0 the main one, k > 0 above it, k < 0 below it.

    Returns:
        the constructed matrix or the extracted diagonal, of inp's dtype.

    Examples:
        >>> F.diag(Tensor([1, 2, 3])).numpy()
        array([[1, 0, 0],
               [0, 2, 0],
               [0, 0, 3]], dtype=int32)
        >>> x = F.arange(9).reshape(3, 3)
        >>> F.diag(x, k=1).numpy()
        array([1., 5.], dtype=float32)
    """
    inp = as_tensor(inp, "diag")
    if inp.ndim not in (1, 2):
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {inp.shape}")
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"diag: k must be an int, got {k!r}")
    return LA.Diag.apply(inp, k=int(k))


def _square_batch(inp, fn):
    inp = as_tensor(inp, fn)
    check_float(inp, fn)
    if inp.ndim < 2:
        raise ValueError(f"{fn}: expected a (..., m, n) tensor, got shape {inp.shape}")
    return inp


def matinv(inp):
    r"""Inverse of each square matrix in a (..., n, n) batch.

    Args:
        inp: float tensor of shape (..., n, n).

    Returns:
        the inverses, of inp's shape.

    Examples:
        >>> F.matinv(Tensor([[2.0, 0.0], [0.0, 4.0]])).numpy()
        array([[0.5 , 0.  ],
               [0.  , 0.25]], dtype=float32)
    """
    inp = _square_batch(inp, "matinv")
    if inp.shape[-1] != inp.shape[-2]:
        raise ValueError(f"matinv: expected square matrices (..., n, n), got shape {inp.shape}")
    return LA.MatInv.apply(inp)


def svd(inp, full_matrices=False, compute_uv=True):
    r"""Singular value decomposition ``inp = U @ diag(S) @ Vh`` of each (m, n) matrix.

    The signs of singular vectors are not unique; ours are LAPACK's (numpy's), which may differ
    from MegEngine's by a sign per singular pair. No gradient (as MegEngine).

    Args:
        inp: float tensor of shape (..., m, n).
        full_matrices: U (..., m, m) and Vh (..., n, n) instead of k = min(m, n) columns/rows.
        compute_uv: return (U, S, Vh) when True, else only S.

    Returns:
        (U, S, Vh), or S when compute_uv is False; S is in descending order.

    Examples:
        >>> x = Tensor([[3.0, 0.0], [0.0, 4.0]])
        >>> F.svd(x, compute_uv=False).numpy()
        array([4., 3.], dtype=float32)
    """
    inp = _square_batch(inp, "svd")
    u, s, vh = LA.Svd.apply(inp, full_matrices=bool(full_matrices))
    return (u, s, vh) if compute_uv else s
