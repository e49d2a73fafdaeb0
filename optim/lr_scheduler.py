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
    """Base class: subclasses define get_lr() (a list, one lr per param group) from
    self.base_lrs and self.current_epoch.

    Args:
        optimizer: the optimizer whose lrs are set.
        current_epoch: -1 to start afresh (base lrs are the groups' current lr, remembered as
            "initial_lr"); else the epoch to resume at (the groups must have "initial_lr").
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
        """Advance one epoch (or go to `epoch`) and set the optimizer's lrs."""
        self.current_epoch = self.current_epoch + 1 if epoch is None else epoch
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr

    def get_last_lr(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """The scheduler's settings and position (not the optimizer)."""
        return {k: getattr(self, k) for k in self._state_keys}

    def load_state_dict(self, state_dict):
        missing = [k for k in self._state_keys if k not in state_dict]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}")
        for k in self._state_keys:
            setattr(self, k, state_dict[k])


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones <= epoch)."""

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
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2 (PyTorch's closed
    form; past T_max it rises again, as PyTorch's recursive form does)."""

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
    """lr = base_lr * lr_lambda(epoch); lr_lambda is a function or a list of them (one per
    param group). state_dict() leaves the functions out (they may not pickle)."""

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

    lr(epoch) = factor(epoch) * after_lr(epoch), factor rising linearly from warmup_factor at
    epoch 0 to 1 at epoch warmup_iters (and 1 afterwards); after_lr is the lr of `after`
    (None: the base lr). Step this scheduler only: it moves `after` to the same epoch.

    Args:
        optimizer: the optimizer (the same one `after` schedules).
        warmup_iters: length of the warm-up, in steps of this scheduler.
        warmup_factor: lr multiplier at epoch 0. Default: 0.001
        after: the schedule to warm up into, or None.
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
