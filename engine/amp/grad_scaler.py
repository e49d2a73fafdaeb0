"""GradScaler: dynamic loss scaling for float16 training (MegEngine's contract)."""
from typing import Iterable

import numpy as np

from engine.tensor import Tensor


def _found_non_finite(grads):
    """True when any of `grads` holds an inf or a NaN. One reduction per gradient and one host
    read in all: inf * 0 and NaN * 0 are NaN, and a NaN survives the sums (float32 accumulation
    for 16-bit gradients)."""
    total = None
    for g in grads:
        with np.errstate(invalid="ignore"):  # inf * 0 is the point here, not a mistake
            s = (g * 0).sum()
        if s.dtype != np.float32:
            s = s.astype("float32")
        total = s if total is None else total + s
    return total is not None and not np.isfinite(total.item())


class GradScaler:
    r"""A helper class that performs grad scaling to prevent from data overflow in
    :class:`~.autocast` mode.

    The loss is multiplied by ``scale_factor`` before the backward pass, so that small float16
    gradients do not flush to zero; :meth:`unscale` divides the gradients by it again. When a
    gradient holds an inf or a NaN, :meth:`unscale` sets every gradient to None instead, so that
    the optimizer's ``step()`` skips all parameters (it skips those whose grad is None), and
    :meth:`update` multiplies the scale by ``backoff_factor``; after ``growth_interval`` steps
    without overflow it multiplies the scale by ``growth_factor``. ``growth_interval=0`` keeps
    the scale fixed and skips the inf/NaN check (the gradients are only divided).

    Args:
        init_scale: initial scale factor.
        growth_factor: factor that the scale is multiplied by in actual
            :meth:`update` stage. If growth_factor is 0, scale_factor will not update.
        backoff_factor: factor that the scale is multiplied by when encountering
            overflow grad.
        growth_interval: the interval between two scale update stages.

    Returns:
        gradScaler object.

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.functional as F
        >>> import engine.optimizer as optim
        >>> from engine import amp
        >>> from engine.autodiff import GradManager
        >>> w = mge.Parameter(np.ones((3, 2), "float32"))
        >>> gm = GradManager().attach([w])
        >>> opt = optim.SGD([w], lr=0.1)
        >>> scaler = amp.GradScaler(init_scale=1024.0, growth_interval=2000)
        >>> x = mge.tensor(np.ones((4, 3), "float32"))
        >>> with amp.autocast():
        ...     with gm:
        ...         loss = F.matmul(x, w).sum()
        ...         scaler.backward(gm, loss)
        >>> print(loss.dtype, w.grad.dtype, w.grad.numpy()[0])
        float16 float32 [4. 4.]
        >>> _ = opt.step().clear_grad()
        >>> print(scaler.scale_factor, scaler.state_dict()["_growth_tracker"])
        1024.0 1
    """

    def __init__(self, init_scale: float = 2.0 ** 4, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000):
        self.scale_factor = float(init_scale)
        self.growth_factor = float(growth_factor)
        self.backoff_factor = float(backoff_factor)
        self.growth_interval = growth_interval
        self._growth_tracker = 0
        self._found_non_finite = False

    def backward(self, gm, y=None, dy=None, *, unscale_grad: bool = True,
                 update_scale="if_unscale_grad"):
        r"""A wrapper of GradManager's :meth:`~.GradManager.backward`, used to scale
        ``y``'s grad and unscale parameters' grads.

        Args:
            gm: The to be wrapped GradManager.
            y: Same as GradManager backward's ``y``.
            dy: Same as GradManager backward's ``dy``. Will be multiplied
                by ``scale_factor``.
            unscale_grad: Whether do :meth:`unscale` at the same time. Could be
                ``False`` if needs to accumulate grads.
            update_scale: Same as :meth:`unscale`'s ``update``. Will be ignored
                if ``unscale_grad`` is ``False``.

        Returns:
            None

        Examples:
            >>> import numpy as np
            >>> import engine as mge
            >>> from engine import amp
            >>> from engine.autodiff import GradManager
            >>> w = mge.Parameter([2.0])
            >>> gm = GradManager().attach([w])
            >>> scaler = amp.GradScaler(init_scale=8.0)
            >>> with gm:
            ...     scaler.backward(gm, (w * 3).sum(), unscale_grad=False)
            >>> print(w.grad.numpy())  # still scaled: 3 * 8
            [24.]
        """
        import engine.functional as F

        if y is None:
            ys = []
        elif isinstance(y, (tuple, list)):
            ys = list(y)
        else:
            ys = [y]
        if dy is None:
            dys = [F.full_like(t, self.scale_factor) for t in ys]
        elif isinstance(dy, (tuple, list)):
            dys = [d * self.scale_factor for d in dy]
        else:
            dys = [dy * self.scale_factor]
        gm.backward(y=ys, dy=dys)
        if unscale_grad:
            self.unscale(gm.attached_tensors())
            if update_scale:
                self.update()

    def unscale(self, grad_tensors: Iterable[Tensor]):
        r"""Unscale all ``grad_tensors``'s grad.

        The gradients are divided by ``scale_factor`` in place. If any of them holds an inf
        or a NaN, all of them are set to None instead (the step is skipped) and the next
        :meth:`update` backs the scale off.

        Args:
            grad_tensors: Tensors needed to unscale grads. Should be all tensors
                that are affected by ``target`` tensor in GradManager's backward.

        Returns:
            self

        Examples:
            >>> import engine as mge
            >>> from engine import amp
            >>> w = mge.Parameter([1.0])
            >>> w.grad = mge.tensor([32.0])
            >>> print(amp.GradScaler(init_scale=16.0).unscale([w]) is not None, w.grad.numpy())
            True [2.]
        """
        tensors = [t for t in grad_tensors if t is not None and getattr(t, "grad", None)
                   is not None]
        inv_scale = 1.0 / self.scale_factor  # a Python float: the gradient keeps its dtype
        if self.growth_interval == 0:
            for t in tensors:
                t.grad._reset(t.grad * inv_scale)
            return self
        if _found_non_finite([t.grad for t in tensors]):
            self._found_non_finite = True
            for t in tensors:
                t.grad = None
            return self
        for t in tensors:
            t.grad._reset(t.grad * inv_scale)
        return self

    def update(self, new_scale: float = None):
        r"""Update the scale factor according to whether encountered overflow grad.
        If ``new_scale`` is provided, internal update mechanism will be ignored.

        Args:
            new_scale: the scale to use from now on (None: back off after an overflow, grow
                after ``growth_interval`` clean steps).

        Returns:
            None

        Examples:
            >>> from engine import amp
            >>> s = amp.GradScaler(init_scale=4.0, growth_interval=1)
            >>> s.update(); print(s.scale_factor)
            8.0
            >>> s.update(new_scale=2.0); print(s.scale_factor)
            2.0
        """
        if self.growth_interval == 0:
            return
        if new_scale is not None:
            self.scale_factor = float(new_scale)
        elif self._found_non_finite:
            self.scale_factor *= self.backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker >= self.growth_interval:
                self.scale_factor *= self.growth_factor
                self._growth_tracker = 0
        self._found_non_finite = False

    def state_dict(self):
        r"""The scaler's state: scale, factors, interval and growth tracker.

        Returns:
            dict with keys ``scale_factor``, ``growth_factor``, ``backoff_factor``,
            ``growth_interval`` and ``_growth_tracker`` (MegEngine's names).

        Examples:
            >>> from engine import amp
            >>> state = amp.GradScaler().state_dict()
            >>> state["scale_factor"], state["growth_interval"], state["_growth_tracker"]
            (16.0, 2000, 0)
        """
        return {
            "scale_factor": self.scale_factor,
            "growth_factor": self.growth_factor,
            "backoff_factor": self.backoff_factor,
            "growth_interval": self.growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state):
        r"""Restore the state saved by :meth:`state_dict`.

        Args:
            state: a dict from :meth:`state_dict`.

        Returns:
            None

        Examples:
            >>> from engine import amp
            >>> a = amp.GradScaler(init_scale=256.0)
            >>> b = amp.GradScaler()
            >>> b.load_state_dict(a.state_dict()); print(b.scale_factor)
            256.0
        """
        self.scale_factor = state["scale_factor"]
        self.growth_factor = state["growth_factor"]
        self.backoff_factor = state["backoff_factor"]
        self.growth_interval = state["growth_interval"]
        self._growth_tracker = state["_growth_tracker"]
