"""Adadelta (Zeiler): step sizes from running averages of squared gradients and updates."""
from ._inplace import array_module
from .optimizer import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Implements the Adadelta algorithm of `"ADADELTA: An Adaptive Learning Rate Method"
    <https://arxiv.org/abs/1212.5701>`_. Per parameter, with g its gradient:

        g = g + weight_decay * p
        square_avg = rho * square_avg + (1 - rho) * g^2
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        p = p - lr * delta
        acc_delta = rho * acc_delta + (1 - rho) * delta^2

    Args:
        params: iterable of Parameters or dicts defining parameter groups.
        lr: coefficient that scales delta before it is applied to the parameters. Default: 1.0
        rho: coefficient used for computing a running average of squared gradients.
            Default: 0.9
        eps: term added to the denominator to improve numerical stability. Default: 1e-6
        weight_decay: weight decay (L2 penalty). Default: 0.0

    Returns:
        An instance of the Adadelta optimizer.

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.optimizer as optim
        >>> p = mge.Parameter(np.array([1.0, 2.0], dtype="float32"))
        >>> opt = optim.Adadelta([p], lr=1.0)
        >>> p.grad = mge.tensor(np.array([1.0, -2.0], dtype="float32"))
        >>> _ = opt.step()
        >>> print(np.round(p.numpy(), 4))
        [0.9968 2.0032]
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"Adadelta: invalid learning rate {lr} (must be >= 0)")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: invalid rho {rho} (must be in [0, 1])")
        if eps < 0.0:
            raise ValueError(f"Adadelta: invalid eps {eps} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"Adadelta: invalid weight_decay {weight_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _create_state(self, param_group):
        for p in param_group["params"]:
            self._add_state(p, "square_avg")
            self._add_state(p, "acc_delta")
            self._add_state(p, "step", initializer=0.0)

    def _updates(self, param_group):
        lr = float(param_group["lr"])
        rho = float(param_group["rho"])
        eps = float(param_group["eps"])
        weight_decay = float(param_group["weight_decay"])
        for p, grad, states, _step in self._stepped_params(param_group):
            param = self._writable(p)
            xp = array_module(param)
            eps32 = xp.float32(eps)
            g = grad.astype(xp.float32)
            if weight_decay != 0.0:
                g = g + weight_decay * param
            square_avg = self._writable(states["square_avg"])
            acc_delta = self._writable(states["acc_delta"])
            square_avg *= rho
            square_avg += (1.0 - rho) * g * g
            delta = xp.sqrt(acc_delta + eps32) / xp.sqrt(square_avg + eps32) * g
            param -= (lr * delta).astype(param.dtype)
            acc_delta *= rho
            acc_delta += (1.0 - rho) * delta * delta
