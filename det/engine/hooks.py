"""The default hooks, one small class each (detectron2's order: timer, LR schedule, [EMA],
checkpoint, eval, writers). Checkpointing itself lives in checkpoint.py."""
import contextlib
import os
import re
import time

import numpy as np

from det.registry import HOOKS
from det.utils import comm
from det.utils.logger import get_logger
from det.utils.progress import format_eta
from det.utils.rng import get_rng_state, set_rng_state

from .trainer import HookBase

__all__ = ["IterationTimer", "LRScheduler", "EMAHook", "PeriodicCheckpointer", "EvalHook",
           "PeriodicWriter", "build_lr_scheduler"]


@HOOKS.register()
class IterationTimer(HookBase):
    """Puts "time" (seconds of run_step) each iteration; logs the total at the end. First in
    the hook list, so its after_step runs before the other hooks' work is timed."""

    def before_train(self):
        self._start = time.perf_counter()
        self._steps = 0

    def before_step(self):
        self._t = time.perf_counter()

    def after_step(self):
        self.trainer.storage.put_scalar(self.trainer.iter, "time", time.perf_counter() - self._t)
        self._steps += 1

    def after_train(self):
        total = time.perf_counter() - self._start
        if self._steps:
            get_logger().info(f"Total training time: {format_eta(total)} ({self._steps} "
                              f"iterations, {total / self._steps:.4f} s/it with hooks)")


def build_lr_scheduler(optimizer, train_cfg):
    """Linear warm-up into multistep (lr *= gamma at train.steps) or cosine (to 0 at max_iter),
    stepped once per iteration."""
    from engine.optimizer import CosineAnnealingLR, LinearWarmup, MultiStepLR

    kind = train_cfg.get("lr_schedule", "multistep")
    if kind == "multistep":
        after = MultiStepLR(optimizer, milestones=list(train_cfg.steps),
                            gamma=train_cfg.get("gamma", 0.1))
    elif kind == "cosine":
        after = CosineAnnealingLR(optimizer, T_max=max(1, train_cfg.max_iter))
    else:
        raise ValueError(f"train.lr_schedule must be 'multistep' or 'cosine', got {kind!r}")
    return LinearWarmup(optimizer, warmup_iters=train_cfg.get("warmup_iters", 0),
                        warmup_factor=train_cfg.get("warmup_factor", 0.001), after=after)


@HOOKS.register()
class LRScheduler(HookBase):
    """Records the lr used by this iteration as "lr", then steps the scheduler."""

    def __init__(self, scheduler):
        self.scheduler = scheduler

    def after_step(self):
        self.trainer.storage.put_scalar(self.trainer.iter, "lr",
                                        self.scheduler.optimizer.param_groups[0]["lr"])
        self.scheduler.step()

    def state_dict(self):
        return self.scheduler.state_dict()

    def load_state_dict(self, state):
        self.scheduler.load_state_dict(state)
        # the lr of the restored position (the optimizer state holds it too; this wins)
        for group, lr in zip(self.scheduler.optimizer.param_groups, self.scheduler.get_lr()):
            group["lr"] = lr


@HOOKS.register()
class EMAHook(HookBase):
    """Exponential moving average of the model's float weights and buffers:
    ema = d * ema + (1 - d) * w after each step, with d = min(decay, (1 + n) / (10 + n)) after
    n updates (the average forgets the random init quickly). `swapped_in()` puts the average
    into the model for evaluation."""

    def __init__(self, model, decay=0.9998):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMAHook: decay must be in [0, 1), got {decay}")
        self.model = model
        self.decay = decay
        self.updates = 0
        self.ema = {k: np.array(v, copy=True) for k, v in model.state_dict().items()}

    def after_step(self):
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for k, v in self.model.state_dict(keep_var=True).items():
            w = np.asarray(v)  # a view of a CPU tensor, a host copy of a GPU one
            e = self.ema[k]
            if e.dtype.kind == "f":
                e *= d
                e += (1 - d) * w
            else:
                e[...] = w

    @contextlib.contextmanager
    def swapped_in(self):
        backup = self.model.state_dict()
        self.model.load_state_dict(self.ema)
        try:
            yield
        finally:
            self.model.load_state_dict(backup)

    def state_dict(self):
        return {"updates": self.updates, "ema": {k: v.copy() for k, v in self.ema.items()}}

    def load_state_dict(self, state):
        self.updates = int(state["updates"])
        self.ema = {k: np.array(v, copy=True) for k, v in state["ema"].items()}


_PERIODIC = re.compile(r"^model_(\d{7})\.pkl$")


@HOOKS.register()
class PeriodicCheckpointer(HookBase):
    """Saves model_{iterations done:07d}.pkl every `period` iterations and model_final.pkl at
    max_iter; keeps the newest `max_to_keep` periodic files (None: all)."""

    def __init__(self, checkpointer, period, max_to_keep=None):
        if period <= 0:
            raise ValueError(f"PeriodicCheckpointer: period must be positive, got {period}")
        self.checkpointer = checkpointer
        self.period = period
        self.max_to_keep = max_to_keep

    def after_step(self):
        done = self.trainer.iter + 1
        if done >= self.trainer.max_iter:
            self.checkpointer.save("model_final")
        elif done % self.period == 0:
            self.checkpointer.save(f"model_{done:07d}")
            self._prune()

    def _prune(self):
        if self.max_to_keep is None or not comm.is_main_process():  # rank 0 owns the files
            return
        folder = self.checkpointer.save_dir
        periodic = sorted(f for f in os.listdir(folder) if _PERIODIC.match(f))
        for name in periodic[:max(0, len(periodic) - self.max_to_keep)]:
            os.remove(os.path.join(folder, name))


@HOOKS.register()
class EvalHook(HookBase):
    """Calls `eval_function() -> {metric: value}` every `period` iterations (0: only at the end)
    and after the last one, in eval mode, with the EMA weights when an EMAHook is given. The
    random streams are saved and restored around it, so evaluating never changes training (a
    resumed run stays equal to an uninterrupted one)."""

    def __init__(self, period, eval_function, ema=None):
        self.period = period
        self.eval_function = eval_function
        self.ema = ema

    def _do_eval(self):
        t = self.trainer
        rng = get_rng_state()
        ctx = self.ema.swapped_in() if self.ema is not None else contextlib.nullcontext()
        t.model.eval()
        try:
            with ctx:
                results = self.eval_function()
        finally:
            t.model.train()
            set_rng_state(rng)
        if not isinstance(results, dict):
            raise TypeError(f"EvalHook: eval_function must return a dict, got "
                            f"{type(results).__name__}")
        t.eval_results = results
        for k, v in results.items():
            if isinstance(v, (int, float, np.floating)) and np.isfinite(v):
                t.storage.put_scalar(t.iter, f"bbox/{k}", v)
        return results

    def after_step(self):
        done = self.trainer.iter + 1
        if done >= self.trainer.max_iter or (self.period > 0 and done % self.period == 0):
            self._do_eval()


@HOOKS.register()
class PeriodicWriter(HookBase):
    """Runs each writer's write() every `period` iterations and at the last one. After
    training it writes once more when iterations finished since the last write (a run ended
    early by an error or Ctrl-C, or by a hook between steps), then closes the writers.

    Args:
        writers: objects with write() and close() (ConsoleWriter, JSONWriter, ...).
        period: iterations between writes.
    """

    def __init__(self, writers, period=20):
        if isinstance(period, bool) or not isinstance(period, int) or period <= 0:
            raise ValueError(f"PeriodicWriter: period must be a positive int, got {period!r}")
        self.writers = list(writers)
        self.period = period
        self._done = self._written = 0  # iterations finished / finished at the last write

    def before_train(self):
        self._done = self._written = self.trainer.start_iter

    def after_step(self):
        self._done = self.trainer.iter + 1
        if self._done % self.period == 0 or self._done >= self.trainer.max_iter:
            self._write()

    def _write(self):
        for w in self.writers:
            w.write()
        self._written = self._done

    def after_train(self):
        try:
            if self._done > self._written:
                # writers read trainer.iter as the iteration of after_step; show them the last
                # finished one (after_train sees max_iter, or the iteration that failed)
                t = self.trainer
                current, t.iter = t.iter, self._done - 1
                try:
                    self._write()
                finally:
                    t.iter = current
        finally:
            for w in self.writers:
                w.close()
