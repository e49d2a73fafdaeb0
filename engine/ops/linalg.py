"""Linear-algebra ops on the last two axes: diagonals, matrix inverse, SVD.

numpy's and CuPy's linalg have no float16 (nor bfloat16) kernels, so MatInv and Svd compute the
16-bit floats in float32 and cast the results back to the input's dtype, as MegEngine does for
half where it has no half kernel (a MegEngine matinv of float16 returns float16).
"""
from .. import dtype as _dt
from .core import Op
from .indexing import GetItem
from .math import Matmul
from .nn import PadConstant
from .shape import Transpose


class Diag(Op):
    """1-D (n,) -> 2-D square with the vector on diagonal k; 2-D -> its diagonal k (numpy's
    diag)."""

    def forward(xp, x, k):
        return xp.diag(x, k)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        k = ctx.attrs["k"]
        if x.ndim == 1:  # the gradient of placing is extracting
            return Diag.apply(dy, k=k)
        # Extracting from an (r, c) matrix: place dy on diagonal k of a square matrix of side
        # len(dy) + |k|, then pad or crop it to (r, c); the entries lie inside both.
        r, c = x.shape
        sq = Diag.apply(dy, k=k)
        s = sq.shape[0]
        if s < r or s < c:
            sq = PadConstant.apply(sq, pad_width=((0, max(0, r - s)), (0, max(0, c - s))),
                                   value=0)
        return GetItem.apply(sq, index=(slice(0, r), slice(0, c)))


def _mT(x):
    n = x.ndim
    return Transpose.apply(x, pattern=tuple(range(n - 2)) + (n - 1, n - 2))


def _linalg_dtype(x):
    """x widened to float32 when it is float16/bfloat16 (no 16-bit linalg kernels)."""
    return x.astype("float32") if x.dtype in _dt._LOW_SET else x


class MatInv(Op):
    """Inverse of each (n, n) matrix of a (..., n, n) batch."""
    save_outputs = True

    def forward(xp, x):
        return xp.linalg.inv(_linalg_dtype(x)).astype(x.dtype, copy=False)

    def backward(ctx, dy):
        # d(A^-1) = -A^-1 dA A^-1, so dA = -A^-T dY A^-T.
        y_t = _mT(ctx.outputs[0])
        return -Matmul.apply(Matmul.apply(y_t, dy, transpose_a=False, transpose_b=False), y_t,
                             transpose_a=False, transpose_b=False)


class Svd(Op):
    """(..., m, n) -> U (..., m, k), S (..., k), Vh (..., k, n) with k = min(m, n) (full_matrices:
    U (..., m, m), Vh (..., n, n)). No gradient: singular vectors are defined up to sign, and
    MegEngine's SVD has none either. float16/bfloat16 compute in float32 and come back in the
    input's dtype (MegEngine refuses them; an extension)."""
    n_outputs = 3
    differentiable = False

    def forward(xp, x, full_matrices):
        u, s, vh = xp.linalg.svd(_linalg_dtype(x), full_matrices=full_matrices)
        return u.astype(x.dtype), s.astype(x.dtype), vh.astype(x.dtype)
