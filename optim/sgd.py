"""SGD with momentum, Nesterov momentum and L2 weight decay (MegEngine's update)."""
from ._inplace import sgd_update_group
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
    decay (MegEngine's update). Per parameter p with gradient g:

        g = g + weight_decay * p
        v = momentum * v + g                     (when momentum != 0; v starts at 0)
        p = p - lr * v                           (nesterov: p = p - lr * (g + momentum * v))

    Args:
        params: an iterable of Parameters, or of parameter-group dicts
            ``{"params": [...], "lr": ...}`` whose options override the defaults below.
        lr: the learning rate.
        momentum: the momentum factor. Default: 0.0
        nesterov: use Nesterov momentum (needs momentum > 0). Default: False
        weight_decay: the L2 penalty added to the gradient. Default: 0.0

    Examples:
        >>> w = mge.Parameter([1., 2.])
        >>> opt = mge.optimizer.SGD([w], lr=0.1, momentum=0.9)
        >>> gm = mge.autodiff.GradManager().attach([w])
        >>> for _ in range(2):
        ...     with gm:
        ...         gm.backward((w * w).sum())  # gradient 2 * w
        ...     opt.step().clear_grad()
        >>> w.numpy()
        array([0.46, 0.92], dtype=float32)
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"SGD: invalid learning rate {lr} (must be >= 0)")
        if momentum < 0.0:
            raise ValueError(f"SGD: invalid momentum {momentum} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"SGD: invalid weight_decay {weight_decay} (must be >= 0)")
        if nesterov and momentum <= 0.0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.nesterov = nesterov
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    def _create_state(self, param_group):
        if param_group["momentum"] != 0.0:
            for p in param_group["params"]:
                self._add_state(p, "momentum_buffer")

    def _updates(self, param_group):
        lr = float(param_group["lr"])
        weight_decay = float(param_group["weight_decay"])
        momentum = float(param_group["momentum"])
        nesterov = bool(param_group.get("nesterov", self.nesterov))
        params, grads, bufs = [], [], []
        for p in param_group["params"]:
            grad = self._grad_array(p)
            if grad is None:
                continue
            if momentum != 0.0:
                self._add_state(p, "momentum_buffer")  # momentum switched on after creation
                bufs.append(self._writable(self._state[p]["momentum_buffer"]))
            params.append(self._writable(p))
            grads.append(grad)
        sgd_update_group(params, grads, bufs if momentum != 0.0 else None, lr, weight_decay,
                         momentum, nesterov)
