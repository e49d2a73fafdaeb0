"""Learning-rate schedulers (MegEngine's LRScheduler protocol).

A scheduler sets `param_group["lr"]` of its optimizer for the current epoch (or iteration: the
unit is whatever you step it by). Construction already applies epoch 0; call `step()` once per
epoch after the optimizer's steps:

    sched = MultiStepLR(opt, milestones=[30, 60], gamma=0.1)
    for epoch in range(90):
        train_one_epoch()
        sched.step()

Every schedule here is a closed form of (base lr, epoch), so schedules compose: `LinearWarmup`
multiplies the lr of the schedule it wraps (`after`) by a factor that rises linearly from
`warmup_factor` to 1 over the first `warmup_iters` steps:

    sched = LinearWarmup(opt, warmup_iters=500, warmup_factor=0.001,
                         after=MultiStepLR(opt, milestones=[60000, 80000]))
    # step `sched` only; it steps `after` in lock-step
"""
import math
from bisect import bisect_right

from .optimizer import Optimizer

__all__ = ["LRScheduler", "MultiStepLR", "CosineAnnealingLR", "LambdaLR", "LinearWarmup"]


class LRScheduler:
    """Base class of the learning-rate schedulers: it sets ``param_group["lr"]`` of
    its optimizer for the current epoch.

    Construction already applies epoch 0; call :meth:`step` once per epoch (or iteration:
    the unit is whatever you step it by) after the optimizer's steps. A subclass defines
    ``get_lr()``, one lr per parameter group, from ``self.base_lrs`` and
    ``self.current_epoch``.

    Args:
        optimizer: the :class:`~.Optimizer` whose lrs are set.
        current_epoch: -1 to start afresh (the base lrs are the groups' current lr,
            remembered as "initial_lr"); else the epoch to resume at (the groups must have
            "initial_lr").

    Examples:
        >>> class Halving(mge.optimizer.LRScheduler):
        ...     def get_lr(self):
        ...         return [base * 0.5 ** self.current_epoch for base in self.base_lrs]
        >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
        >>> sched = Halving(opt)
        >>> for epoch in range(3):
        ...     print(epoch, opt.param_groups[0]["lr"])
        ...     sched.step()
        0 1.0
        1 0.5
        2 0.25
    """

    _state_keys = ("current_epoch", "base_lrs")

    def __init__(self, optimizer, current_epoch=-1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.current_epoch = current_epoch
        if current_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{name}: param_groups[{i}] has no 'initial_lr'; resuming at "
                                   f"current_epoch={current_epoch} needs one")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.step()

    def get_lr(self):
        raise NotImplementedError

    def step(self, epoch=None):
        """Advances one epoch (or goes to ``epoch``) and sets the optimizer's lrs.

        Args:
            epoch: None to advance by one, or the epoch to go to.

        Examples:
            >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
            >>> sched = mge.optimizer.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
            >>> sched.step(4)
            >>> sched.current_epoch, opt.param_groups[0]["lr"]
            (4, 0.25)
        """
        self.current_epoch = self.current_epoch + 1 if epoch is None else epoch
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr

    def get_last_lr(self):
        """The lr of each parameter group, as last set.

        Returns:
            a list of floats.

        Examples:
            >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
            >>> mge.optimizer.MultiStepLR(opt, milestones=[1]).get_last_lr()
            [1.0]
        """
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """The scheduler's settings and position (not the optimizer's).

        Returns:
            a dict.

        Examples:
            >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
            >>> mge.optimizer.MultiStepLR(opt, milestones=[3], gamma=0.5).state_dict()
            {'current_epoch': 0, 'base_lrs': [1.0], 'milestones': [3], 'gamma': 0.5}
        """
        return {k: getattr(self, k) for k in self._state_keys}

    def load_state_dict(self, state_dict):
        """Restores the settings and position saved by :meth:`state_dict`
        (the optimizer's lrs are set at the next :meth:`step`).

        Args:
            state_dict: a dict returned by :meth:`state_dict`.

        Examples:
            >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
            >>> sched = mge.optimizer.MultiStepLR(opt, milestones=[3], gamma=0.5)
            >>> sched.load_state_dict({"current_epoch": 5, "base_lrs": [1.0], "milestones": [3],
            ...                        "gamma": 0.5})
            >>> sched.step()
            >>> sched.current_epoch, opt.param_groups[0]["lr"]
            (6, 0.5)
        """
        missing = [k for k in self._state_keys if k not in state_dict]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}")
        for k in self._state_keys:
            setattr(self, k, state_dict[k])


class MultiStepLR(LRScheduler):
    """Multiplies the lr by ``gamma`` at each milestone:
    ``lr = base_lr * gamma ** (number of milestones <= epoch)``.

    Args:
        optimizer: the :class:`~.Optimizer` whose lrs are set.
        milestones: the epochs at which the lr drops, increasing.
        gamma: the factor of each drop.
        current_epoch: -1 to start afresh; else the epoch to resume at (the groups must have
            "initial_lr").

    Examples:
        >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
        >>> sched = mge.optimizer.MultiStepLR(opt, milestones=[2, 4], gamma=0.1)
        >>> lrs = []
        >>> for epoch in range(6):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
        ...     sched.step()
        >>> lrs
        [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    """

    _state_keys = LRScheduler._state_keys + ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1, current_epoch=-1):
        milestones = list(milestones)
        if milestones != sorted(milestones):
            raise ValueError(f"MultiStepLR: milestones must be increasing, got {milestones}")
        self.milestones = milestones
        self.gamma = gamma
        super().__init__(optimizer, current_epoch)

    def get_lr(self):
        k = bisect_right(self.milestones, self.current_epoch)
        return [base * self.gamma ** k for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base lr down to ``eta_min`` over ``T_max``
    epochs: ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``
    (PyTorch's closed form; past T_max it rises again, as PyTorch's recursive form does).

    Args:
        optimizer: the :class:`~.Optimizer` whose lrs are set.
        T_max: the number of epochs of the half cosine, > 0.
        eta_min: the lowest lr.
        current_epoch: -1 to start afresh; else the epoch to resume at (the groups must have
            "initial_lr").

    Examples:
        >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
        >>> sched = mge.optimizer.CosineAnnealingLR(opt, T_max=4, eta_min=0.0)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 4))
        ...     sched.step()
        >>> lrs
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    _state_keys = LRScheduler._state_keys + ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0, current_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, current_epoch)

    def get_lr(self):
        c = (1 + math.cos(math.pi * self.current_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * c for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """Sets ``lr = base_lr * lr_lambda(epoch)``.

    :meth:`state_dict` leaves the functions out (they may not pickle).

    Args:
        optimizer: the :class:`~.Optimizer` whose lrs are set.
        lr_lambda: a function of the epoch, or a list of them, one per parameter group.
        current_epoch: -1 to start afresh; else the epoch to resume at (the groups must have
            "initial_lr").

    Examples:
        >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
        >>> sched = mge.optimizer.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
        >>> sched.step()
        >>> sched.step()
        >>> round(opt.param_groups[0]["lr"], 4)
        0.3333
    """

    def __init__(self, optimizer, lr_lambda, current_epoch=-1):
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: got {len(lr_lambda)} lr_lambdas for {n} param "
                                 f"groups")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        if not all(callable(f) for f in self.lr_lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a callable or a list of callables")
        super().__init__(optimizer, current_epoch)

    def get_lr(self):
        return [base * f(self.current_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class LinearWarmup(LRScheduler):
    """Linear warm-up in front of any closed-form schedule.

    ``lr(epoch) = factor(epoch) * after_lr(epoch)``, the factor rising linearly from
    ``warmup_factor`` at epoch 0 to 1 at epoch ``warmup_iters`` (and 1 afterwards);
    ``after_lr`` is the lr of ``after`` (None: the base lr). Step this scheduler only: it
    moves ``after`` to the same epoch.

    Args:
        optimizer: the :class:`~.Optimizer` (the same one ``after`` schedules).
        warmup_iters: the length of the warm-up, in steps of this scheduler.
        warmup_factor: the lr multiplier at epoch 0. Default: 0.001
        after: the schedule to warm up into, or None.
        current_epoch: -1 to start afresh; else the epoch to resume at (the groups must have
            "initial_lr").

    Examples:
        >>> opt = mge.optimizer.SGD([mge.Parameter([0.])], lr=1.0)
        >>> after = mge.optimizer.MultiStepLR(opt, milestones=[6], gamma=0.1)
        >>> sched = mge.optimizer.LinearWarmup(opt, warmup_iters=4, warmup_factor=0.2,
        ...                                    after=after)
        >>> lrs = []
        >>> for step in range(8):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 4))
        ...     sched.step()
        >>> lrs
        [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 0.1, 0.1]
    """

    _state_keys = LRScheduler._state_keys + ("warmup_iters", "warmup_factor")

    def __init__(self, optimizer, warmup_iters, warmup_factor=0.001, after=None,
                 current_epoch=-1):
        if warmup_iters < 0:
            raise ValueError(f"LinearWarmup: warmup_iters must be >= 0, got {warmup_iters}")
        if after is not None and not isinstance(after, LRScheduler):
            raise TypeError(f"LinearWarmup: after must be an LRScheduler or None, got "
                            f"{type(after).__name__}")
        if after is not None and after.optimizer is not optimizer:
            raise ValueError("LinearWarmup: `after` schedules a different optimizer")
        self.warmup_iters = warmup_iters
        self.warmup_factor = warmup_factor
        self.after = after
        super().__init__(optimizer, current_epoch)

    def factor(self, epoch):
        if epoch >= self.warmup_iters:
            return 1.0
        alpha = epoch / self.warmup_iters
        return self.warmup_factor * (1 - alpha) + alpha

    def get_lr(self):
        if self.after is None:
            lrs = self.base_lrs
        else:
            self.after.current_epoch = self.current_epoch
            lrs = self.after.get_lr()
        f = self.factor(self.current_epoch)
        return [lr * f for lr in lrs]

    def state_dict(self):
        state = super().state_dict()
        state["after"] = None if self.after is None else self.after.state_dict()
        return state

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        if self.after is not None and state_dict.get("after") is not None:
            self.after.load_state_dict(state_dict["after"])
