"""Gradient clipping (MegEngine's clip_grad_norm / clip_grad_value), outside autograd."""
import numpy as np

from engine.tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_value"]


def _with_grads(tensors, fn):
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    out = []
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: expected Tensors, got {type(t).__name__}")
        if t.grad is not None:
            out.append(t)
    return out


def _set_grad(t, array):
    # A new gradient Tensor rather than writing into the old one: one gradient Tensor may be
    # shared by several parameters (the backward of x + y hands the same dy to both).
    t.grad = Tensor(array, dtype=array.dtype, device=t.grad.device)


def clip_grad_norm(tensors, max_norm, ord=2.0):
    """Scales the gradients of ``tensors`` so that their joint norm is at most
    ``max_norm``.

    The total norm is the ``ord``-norm of all the gradients viewed as one vector; every
    gradient is multiplied by ``min(1, max_norm / (total_norm + 1e-6))``. It runs outside
    autograd; tensors without a gradient are skipped.

    Args:
        tensors: a Tensor or an iterable of Tensors (usually ``model.parameters()``).
        max_norm: the largest allowed total norm.
        ord: the order of the norm, positive or ``float("inf")``. Default: 2.0

    Returns:
        the total norm before clipping, a 0-d float32 Tensor.

    Examples:
        >>> a, b = mge.Parameter([0., 0.]), mge.Parameter([0.])
        >>> a.grad, b.grad = Tensor([3., 0.]), Tensor([4.])
        >>> mge.optimizer.clip_grad_norm([a, b], max_norm=1.0).numpy()
        array(5., dtype=float32)
        >>> a.grad.numpy().round(4), b.grad.numpy().round(4)
        (array([0.6, 0. ], dtype=float32), array([0.8], dtype=float32))
    """
    tensors = _with_grads(tensors, "clip_grad_norm")
    if not tensors:
        return Tensor(0.0)
    grads = [t.grad._storage.array for t in tensors]
    xp = tensors[0].device.xp
    ord = float(ord)
    if ord == float("inf"):
        total = max(float(xp.abs(g).max()) if g.size else 0.0 for g in grads)
    elif ord == 2.0:
        # float64 sums of squares: a float32 running sum loses digits over millions of values
        total = float(sum(float(xp.dot(g.ravel().astype(xp.float64),
                                       g.ravel().astype(xp.float64))) for g in grads)) ** 0.5
    elif ord > 0:
        total = sum(float((xp.abs(g.astype(xp.float64)) ** ord).sum()) for g in grads) ** (1 / ord)
    else:
        raise ValueError(f"clip_grad_norm: ord must be positive or inf, got {ord}")
    scale = min(float(max_norm) / (total + 1e-6), 1.0)
    if scale < 1.0:
        for t, g in zip(tensors, grads):
            _set_grad(t, g * g.dtype.type(scale))
    return Tensor(np.float32(total), device=tensors[0].device)


def clip_grad_value(tensors, lower, upper):
    """Clips every gradient element of ``tensors`` into ``[lower, upper]``.

    It runs outside autograd; tensors without a gradient are skipped.

    Args:
        tensors: a Tensor or an iterable of Tensors (usually ``model.parameters()``).
        lower: the lower bound.
        upper: the upper bound, >= lower.

    Examples:
        >>> w = mge.Parameter([0., 0., 0.])
        >>> w.grad = Tensor([-3., 0.5, 2.])
        >>> mge.optimizer.clip_grad_value([w], -1, 1)
        >>> w.grad.numpy()
        array([-1. ,  0.5,  1. ], dtype=float32)
    """
    if lower > upper:
        raise ValueError(f"clip_grad_value: lower ({lower}) is greater than upper ({upper})")
    for t in _with_grads(tensors, "clip_grad_value"):
        g = t.grad._storage.array
        _set_grad(t, t.device.xp.clip(g, g.dtype.type(lower), g.dtype.type(upper)))
