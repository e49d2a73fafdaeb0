"""LAMB (You et al.): Adam's direction scaled per tensor by a trust ratio ||p|| / ||update||."""
import numpy as np

from ._inplace import array_module
from .optimizer import Optimizer

__all__ = ["LAMB", "LAMBFp16"]


def lamb_update(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
                bias_correction, always_adapt):
    """One LAMB step on raw float32 arrays (param, exp_avg, exp_avg_sq written in place), the
    formula of :class:`LAMB`.

    The norms are float32 sums of squares. MegEngine's CPU kernel accumulates ||p||^2 in an int
    (std::accumulate with the literal 0), which truncates it to 0 for small weights and so
    turns the trust ratio off; engine computes the norm of the formula.

    Args:
        param: the parameter's numpy (or cupy) array, updated in place.
        grad: its gradient.
        exp_avg: the first-moment estimate m, updated in place.
        exp_avg_sq: the second-moment estimate v, updated in place.
        lr: the learning rate.
        beta1: the decay of m.
        beta2: the decay of v.
        eps: added to sqrt(v) for numerical stability.
        weight_decay: the decoupled weight decay added to the update.
        step: the step count t, from 1 (for the bias corrections).
        bias_correction: divide m and v by (1 - beta^t).
        always_adapt: apply the trust ratio even without weight decay.

    Returns:
        None; the arrays are updated in place.

    Examples:
        >>> from engine.optimizer.lamb import lamb_update
        >>> p = np.array([3., 4.], "float32")
        >>> m, v = np.zeros(2, "float32"), np.zeros(2, "float32")
        >>> lamb_update(p, np.array([1., -1.], "float32"), m, v, lr=0.1, beta1=0.9,
        ...             beta2=0.999, eps=1e-6, weight_decay=0.0, step=1, bias_correction=True,
        ...             always_adapt=True)
        >>> p, m
        (array([2.6464467, 4.3535533], dtype=float32), array([ 0.1, -0.1], dtype=float32))
    """
    xp = array_module(param)
    g = grad.astype(xp.float32)
    exp_avg *= beta1
    exp_avg += (1.0 - beta1) * g
    exp_avg_sq *= beta2
    exp_avg_sq += (1.0 - beta2) * g * g
    bc1 = 1.0 - beta1 ** step if bias_correction else 1.0
    bc2 = 1.0 - beta2 ** step if bias_correction else 1.0
    update = (exp_avg / xp.float32(bc1)) / (xp.sqrt(exp_avg_sq / xp.float32(bc2))
                                            + xp.float32(eps))
    if weight_decay != 0.0:
        update += xp.float32(weight_decay) * param
    trust_ratio = 1.0
    if always_adapt or weight_decay > 0.0:
        p_norm = float(xp.sqrt(xp.sum(param * param)))
        d_norm = float(xp.sqrt(xp.sum(update * update)))
        if p_norm > 0.0 and d_norm > 0.0:
            trust_ratio = p_norm / d_norm
    param -= xp.float32(lr * trust_ratio) * update


class LAMB(Optimizer):
    r"""Implements the LAMB algorithm of `"Large Batch Optimization for Deep Learning: Training
    BERT in 76 minutes" <https://arxiv.org/abs/1904.00962>`_. Per parameter tensor, with g its
    gradient and t its step count (from 1):

        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2
        r = (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps) + weight_decay * p
        ratio = ||p|| / ||r|| when (weight_decay > 0 or always_adapt) and both norms > 0, else 1
        p = p - lr * ratio * r

    (without bias_correction the (1 - beta^t) factors are 1).

    Args:
        params: iterable of Parameters or dicts defining parameter groups.
        lr: learning rate.
        betas: coefficients used for computing running averages of gradient and its square.
            Default: ``(0.9, 0.999)``
        eps: term added to the denominator to improve numerical stability. Default: ``1e-8``
        bias_correction: enables bias correction by ``1 - beta ** step``. Default: ``True``
        weight_decay: weight decay (L2 penalty). Default: ``0.0``
        always_adapt: apply adaptive lr to ``0.0`` weight decay parameter. Default: ``False``

    Returns:
        An instance of the LAMB optimizer.

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.optimizer as optim
        >>> p = mge.Parameter(np.array([3.0, 4.0], dtype="float32"))
        >>> opt = optim.LAMB([p], lr=0.1, always_adapt=True)
        >>> p.grad = mge.tensor(np.array([1.0, 1.0], dtype="float32"))
        >>> _ = opt.step()
        >>> print(np.round(p.numpy(), 4))
        [2.6464 3.6464]
    """

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, bias_correction=True,
                 weight_decay=0.0, always_adapt=False):
        name = type(self).__name__
        if lr < 0.0:
            raise ValueError(f"{name}: invalid learning rate {lr} (must be >= 0)")
        if weight_decay < 0.0:
            raise ValueError(f"{name}: invalid weight_decay {weight_decay} (must be >= 0)")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{name}: betas must be two values in [0, 1), got {betas}")
        if eps < 0.0:
            raise ValueError(f"{name}: invalid eps {eps} (must be >= 0)")
        self.bias_correction = bias_correction
        self.always_adapt = always_adapt
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, betas=betas, eps=eps))

    def _create_state(self, param_group):
        for p in param_group["params"]:
            self._add_state(p, "exp_avg")
            self._add_state(p, "exp_avg_sq")
            self._add_state(p, "step", initializer=0.0, dtype="float32")

    def _master(self, param):
        """The float32 array the update is computed on (the parameter itself here)."""
        return self._writable(param)

    def _updates(self, param_group):
        lr = float(param_group["lr"])
        weight_decay = float(param_group["weight_decay"])
        eps = float(param_group["eps"])
        beta1, beta2 = (float(b) for b in param_group["betas"])
        for p, grad, states, step in self._stepped_params(param_group):
            master = self._master(p)
            lamb_update(master, grad, self._writable(states["exp_avg"]),
                        self._writable(states["exp_avg_sq"]), lr, beta1, beta2, eps,
                        weight_decay, float(step), self.bias_correction, self.always_adapt)
            if "param_fp32" in states:  # LAMBFp16: the parameter is the rounded master copy
                self._writable(p)[...] = master.astype(p.dtype)


class LAMBFp16(LAMB):
    r"""LAMB for float16 parameters: the moments and a float32 master copy of each parameter
    (state ``param_fp32``) are kept in float32, the update is computed on the master copy, and
    the parameter is its float16 rounding. Gradients may be float16 or float32.

    Args: as :class:`LAMB`.

    Returns:
        An instance of the LAMBFp16 optimizer.

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.optimizer as optim
        >>> p = mge.Parameter(np.array([3.0, 4.0], dtype="float16"))
        >>> opt = optim.LAMBFp16([p], lr=0.1, always_adapt=True)
        >>> p.grad = mge.tensor(np.array([1.0, 1.0], dtype="float16"))
        >>> _ = opt.step()
        >>> print(p.dtype, np.round(opt._state[p]["param_fp32"].numpy(), 4))
        float16 [2.6464 3.6464]
    """

    def _create_state(self, param_group):
        super()._create_state(param_group)
        for p in param_group["params"]:
            self._add_state(p, "param_fp32", initializer=p.numpy().astype(np.float32))

    def _master(self, param):
        return self._writable(self._state[param]["param_fp32"])
