"""engine.core.autodiff.grad: MegEngine's low-level ``Grad`` and ``Function``.

``Grad`` is MegEngine's bare gradient key: ``with Grad() as grad:`` records,
``grad.wrt(x, callback=cb)`` marks x, and ``grad(ys, dys)`` runs the backward and calls
``cb(dx)`` with each marked tensor's gradient (nothing is written to ``.grad``; the callback
decides). It runs on engine's tape (engine.autodiff.GradManager), so nesting gives
higher-order gradients exactly as nested GradManagers do.
"""
import itertools
import weakref

from ...autodiff import Function
from ...autodiff.grad_manager import GradManager, _reached
from ...tensor import Tensor

__all__ = ["Function", "Grad"]

_count = itertools.count()


class Grad(GradManager):
    """MegEngine's Grad: a gradient recording whose results go to per-tensor callbacks.

    Args:
        name: a name for this Grad (default ``grad_<n>``).

    Examples:
        >>> import engine as mge
        >>> from engine.core.autodiff.grad import Grad
        >>> x = mge.tensor([1.0, 2.0])
        >>> got = {}
        >>> with Grad() as grad:
        ...     _ = grad.wrt(x, callback=lambda dx: got.setdefault("dx", dx))
        ...     grad(x * x, mge.tensor([1.0, 1.0]))
        >>> got["dx"].numpy()
        array([2., 4.], dtype=float32)
    """

    def __init__(self, name=None):
        super().__init__()
        self.name = name if name else f"grad_{next(_count)}"
        self._grad_callbacks = {}  # id(tensor) -> (weakref to tensor, [callback(grad)])

    def wrt(self, *tensors, callback=None):
        """Marks `tensors`; the backward calls ``callback(grad)`` for each. Returns self."""
        for t in tensors:
            self.attach(t)
            ref, cbs = self._grad_callbacks.get(id(t), (None, []))
            if ref is None or ref() is not t:
                ref, cbs = weakref.ref(t), []
                self._grad_callbacks[id(t)] = (ref, cbs)
            if callback is not None:
                cbs.append(callback)
        return self

    def _is_attached_to(self, tensor):
        return self.is_attached(tensor)

    def __call__(self, ys, dys):
        """Backward from `ys` (a Tensor or a sequence) with output gradients `dys`."""
        ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
        dys = list(dys) if isinstance(dys, (list, tuple)) else [dys]
        # MegEngine broadcasts an output gradient to its output's shape
        dys = [_F().broadcast_to(dy, y.shape) if isinstance(dy, Tensor) and dy.shape != y.shape
               else dy for y, dy in zip(ys, dys)]
        self.backward(ys, dys)

    def _accumulate(self, grads):
        for _, g, (callbacks,) in _reached(self._grad_callbacks.values(), grads):
            for cb in callbacks:
                cb(g)
        after, self._after_backward = self._after_backward, []
        for callback in after:
            callback()

    def __repr__(self):
        return f"Grad({self.name!r}, recording={self.is_recording})"


def _F():
    import engine.functional as F

    return F
