"""Layout functions composed from reshape/transpose/broadcast (MegEngine's names): meshgrid,
swapaxes, pixel_shuffle."""
from engine.ops import shape as S

from ._utils import as_tensor, one_axis

__all__ = ["meshgrid", "swapaxes", "pixel_shuffle"]


def meshgrid(*inputs, indexing="xy"):
    r"""Coordinate matrices from 1-D coordinate vectors (numpy's meshgrid).

    Args:
        inputs: N 1-D tensors of one dtype, of lengths N1, ..., Nn.
        indexing: "xy" (Cartesian: outputs of shape (N2, N1, N3, ...)) or "ij" (matrix:
            (N1, N2, N3, ...)).

    Returns:
        a list of N tensors, each of rank N.

    Examples:
        >>> x = F.linspace(0, 1, 3)
        >>> y = F.linspace(0, 1, 2)
        >>> xv, yv = F.meshgrid(x, y)
        >>> xv.numpy()
        array([[0. , 0.5, 1. ],
               [0. , 0.5, 1. ]], dtype=float32)
        >>> yv.numpy()
        array([[0., 0., 0.],
               [1., 1., 1.]], dtype=float32)
    """
    fn = "meshgrid"
    if indexing not in ("xy", "ij"):
        raise ValueError(f"{fn}: indexing must be 'xy' or 'ij', got {indexing!r}")
    ts = [as_tensor(t, fn) for t in inputs]
    if any(t.ndim != 1 for t in ts):
        raise ValueError(f"{fn}: expected 1-D tensors, got shapes {[t.shape for t in ts]}")
    if len({t.dtype for t in ts}) > 1:
        raise TypeError(f"{fn}: inputs must have one dtype, got {[str(t.dtype) for t in ts]}")
    n = len(ts)
    shape = [t.shape[0] for t in ts]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(ts):
        pos = i
        if indexing == "xy" and n >= 2 and i < 2:
            pos = 1 - i
        view = [1] * n
        view[pos] = t.shape[0]
        out.append(S.BroadcastTo.apply(S.Reshape.apply(t, shape=tuple(view)), shape=tuple(shape)))
    return out


def swapaxes(inp, axis1, axis2):
    r"""Interchange two axes of a tensor.

    Args:
        inp: input tensor.
        axis1: first axis.
        axis2: second axis.

    Returns:
        the tensor with axis1 and axis2 swapped.

    Examples:
        >>> x = Tensor([[1, 2, 3]])
        >>> F.swapaxes(x, 0, 1).numpy()
        array([[1],
               [2],
               [3]], dtype=int32)
    """
    inp = as_tensor(inp, "swapaxes")
    a = one_axis(axis1, inp.ndim, "swapaxes")
    b = one_axis(axis2, inp.ndim, "swapaxes")
    perm = list(range(inp.ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return S.Transpose.apply(inp, pattern=tuple(perm))


def pixel_shuffle(inp, upscale_factor):
    r"""Rearrange (..., C * r^2, H, W) into (..., C, H * r, W * r), r = upscale_factor
    (sub-pixel convolution's shuffle).

    Args:
        inp: tensor with at least 3 dims whose third-last dim divides by r^2.
        upscale_factor: the factor r.

    Returns:
        the rearranged tensor.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.arange(8).reshape(1, 4, 1, 2).astype(np.float32))
        >>> F.pixel_shuffle(x, 2).numpy()[0, 0]
        array([[0., 2., 1., 3.],
               [4., 6., 5., 7.]], dtype=float32)
    """
    fn = "pixel_shuffle"
    inp = as_tensor(inp, fn)
    r = upscale_factor
    if isinstance(r, bool) or not isinstance(r, int) or r < 1:
        raise ValueError(f"{fn}: upscale_factor must be a positive int, got {r!r}")
    if inp.ndim < 3 or inp.shape[-3] % (r * r):
        raise ValueError(f"{fn}: expected (..., C * {r * r}, H, W) for upscale_factor {r}, got "
                         f"shape {inp.shape}")
    lead = inp.shape[:-3]
    c, h, w = inp.shape[-3:]
    oc = c // (r * r)
    x = S.Reshape.apply(inp, shape=(-1, oc, r, r, h, w))
    x = S.Transpose.apply(x, pattern=(0, 1, 4, 2, 5, 3))  # (B, oc, h, r, w, r)
    return S.Reshape.apply(x, shape=lead + (oc, h * r, w * r))
