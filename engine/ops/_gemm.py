"""numpy-style matmul on engine's own GEMM (engine._C.gemm) for float32 CPU arrays.

Batch dims broadcast as in numpy. Each operand's batch dims are handed to the GEMM as one
stride (0 for a broadcast operand) whenever its layout allows, so transposed views, slices and
broadcasts are read in place; only a batch layout that no single stride describes is copied.
"""
import numpy as np

from .._native import _C
from ._kernels import _F32


def _batched(x, batch_shape, count):
    """x (..., r, c) as a 3-D (count, r, c) view or array for the GEMM."""
    lead = x.shape[:-2]
    if all(d == 1 for d in lead):  # no batch (or only size-1 dims): one item, broadcast
        return x.reshape(x.shape[-2:])
    if lead != batch_shape:
        x = np.broadcast_to(x, batch_shape + x.shape[-2:])
    try:
        # a view when the batch dims collapse to one stride (numpy copies otherwise)
        view = x.view()
        view.shape = (count,) + x.shape[-2:]
        return view
    except AttributeError:
        return np.ascontiguousarray(x).reshape((count,) + x.shape[-2:])




def usable(xp, a, b):
    return xp is np and _C is not None and a.dtype is _F32 and b.dtype is _F32


def matmul(a, b):
    """a @ b for float32 numpy arrays with ndim >= 2 (numpy's broadcasting of batch dims)."""
    if a.ndim == 2 and b.ndim == 2:
        return _C.gemm(a, b)
    batch_shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    count = int(np.prod(batch_shape)) if batch_shape else 1
    m, n = a.shape[-2], b.shape[-1]
    out = np.empty((count, m, n), np.float32)
    if count:
        a3, b3 = _batched(a, batch_shape, count), _batched(b, batch_shape, count)
        if a3.ndim == 2 and b3.ndim == 2:
            _C.gemm(a3, b3, out=out[0])
            out[1:] = out[0]
        else:
            _C.gemm(a3 if a3.ndim == 3 else a3[None], b3 if b3.ndim == 3 else b3[None], out=out)
    return out.reshape(batch_shape + (m, n))
