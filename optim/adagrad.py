"""Adagrad (Duchi et al.): per-element step sizes from the running sum of squared gradients."""
from ._inplace import array_module
from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Implements the Adagrad algorithm of `"Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization" <http://jmlr.org/papers/v12/duchi11a.html>`_. Per parameter, with g
    its gradient and t its step count (from 1):

        g = g + weight_decay * p
        square_avg = square_avg + g^2
        p = p - lr / (1 + (t - 1) * lr_decay) * g / sqrt(square_avg + eps)

    eps sits inside the square root, as in MegEngine (torch adds it after the root).

    Args:
        params: iterable of Parameters or dicts defining parameter groups.
        lr: coefficient that scales delta before it is applied to the parameters. Default: 1e-2
        lr_decay: learning rate decay. Default: 0.0
        eps: term added to the denominator to improve numerical stability. Default: 1e-10
        weight_decay: weight decay (L2 penalty). Default: 0.0

    Returns:
        An instance of the Adagrad optimizer.

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.optimizer as optim
        >>> p = mge.Parameter(np.array([1.0, 2.0], dtype="float32"))
        >>> opt = optim.Adagrad([p], lr=0.1)
        >>> p.grad = mge.tensor(np.array([1.0, -2.0], dtype="float32"))
        >>> _ = opt.step()
        >>> print(np.round(p.numpy(), 4))
        [0.9 2.1]
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, eps=1e-10, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"Adagrad: invalid learning rate {lr} (must be >= 0)")
        if lr_decay < 0.0:
            raise ValueError(f"Adagrad: invalid lr_decay {lr_decay} (must be >= 0)")
        if eps < 0.0:
            raise ValueError(f"Adagrad: invalid eps {eps} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"Adagrad: invalid weight_decay {weight_decay} (must be >= 0)")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay))

    def _create_state(self, param_group):
        for p in param_group["params"]:
            self._add_state(p, "square_avg")
            self._add_state(p, "step", initializer=0.0)

    def _updates(self, param_group):
        lr = float(param_group["lr"])
        lr_decay = float(param_group["lr_decay"])
        eps = float(param_group["eps"])
        weight_decay = float(param_group["weight_decay"])
        for p, grad, states, step in self._stepped_params(param_group):
            param = self._writable(p)
            xp = array_module(param)
            g = grad.astype(xp.float32)
            if weight_decay != 0.0:
                g = g + weight_decay * param
            square_avg = self._writable(states["square_avg"])
            square_avg += g * g
            clr = lr / (1.0 + (float(step) - 1.0) * lr_decay)
            param -= (clr * g / xp.sqrt(square_avg + xp.float32(eps))).astype(param.dtype)
