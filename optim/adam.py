"""Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay)."""
from ._inplace import adam_update_group
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class _AdamBase(Optimizer):
    _decoupled = False

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        name = type(self).__name__
        if lr < 0.0:
            raise ValueError(f"{name}: invalid learning rate {lr} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"{name}: invalid weight_decay {weight_decay} (must be >= 0)")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{name}: betas must be two values in [0, 1), got {betas}")
        if eps < 0.0:
            raise ValueError(f"{name}: invalid eps {eps} (must be >= 0)")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, betas=tuple(betas),
                                      eps=eps))

    def _create_state(self, param_group):
        for p in param_group["params"]:
            self._add_state(p, "exp_avg")
            self._add_state(p, "exp_avg_sq")
            self._add_state(p, "step", initializer=0.0)

    def _updates(self, param_group):
        lr = float(param_group["lr"])
        weight_decay = float(param_group["weight_decay"])
        eps = float(param_group["eps"])
        beta1, beta2 = (float(b) for b in param_group["betas"])
        params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
        for p, grad, states, step in self._stepped_params(param_group):
            params.append(self._writable(p))
            grads.append(grad)
            exp_avgs.append(self._writable(states["exp_avg"]))
            exp_avg_sqs.append(self._writable(states["exp_avg_sq"]))
            steps.append(float(step))
        adam_update_group(params, grads, exp_avgs, exp_avg_sqs, steps, lr, beta1, beta2, eps,
                          weight_decay, self._decoupled)


class Adam(_AdamBase):
    """Adam (Kingma and Ba) with L2 weight decay added to the gradient. Per parameter p
    with gradient g at step t (from 1):

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2
        p = p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    Args:
        params: an iterable of Parameters, or of parameter-group dicts
            ``{"params": [...], "lr": ...}`` whose options override the defaults below.
        lr: the learning rate.
        betas: (beta1, beta2), the decay rates of the moment estimates. Default: (0.9, 0.999)
        eps: added to the denominator. Default: 1e-8
        weight_decay: the L2 penalty added to the gradient. Default: 0.0

    Examples:
        >>> w = mge.Parameter([1., -2.])
        >>> opt = mge.optimizer.Adam([w], lr=0.1)
        >>> gm = mge.autodiff.GradManager().attach([w])
        >>> with gm:
        ...     gm.backward((w * w).sum())
        >>> opt.step().clear_grad()
        >>> w.numpy().round(4)
        array([ 0.9, -1.9], dtype=float32)
    """


class AdamW(_AdamBase):
    """Adam with decoupled weight decay (Loshchilov and Hutter): the moments see the
    plain gradient and the decay acts on the parameter directly,

        p = p - lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * p)

    with m_hat and v_hat the bias-corrected moments of :class:`Adam`.

    Args:
        params: an iterable of Parameters, or of parameter-group dicts.
        lr: the learning rate.
        betas: (beta1, beta2), the decay rates of the moment estimates. Default: (0.9, 0.999)
        eps: added to the denominator. Default: 1e-8
        weight_decay: the decoupled weight decay. Default: 1e-2

    Examples:
        >>> w = mge.Parameter([1., -2.])
        >>> opt = mge.optimizer.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> gm = mge.autodiff.GradManager().attach([w])
        >>> with gm:
        ...     gm.backward((w * w).sum())
        >>> opt.step().clear_grad()
        >>> w.numpy().round(4)
        array([ 0.85, -1.8 ], dtype=float32)
    """

    _decoupled = True

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)
