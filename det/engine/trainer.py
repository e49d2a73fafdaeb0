"""Trainer: the training loop and the hook protocol (detectron2's train_loop, on engine).

The whole loop is

    data = next(loader)
    losses = model(data, mode="loss")            # {"loss_cls": Tensor, "loss_box": ...}
    gm.backward(sum of the values whose key starts with "loss")
    opt.step().clear_grad()

and everything else (LR schedule, checkpoints, evaluation, logging, EMA) is a hook.
"""
import math
import time
import weakref

from det.utils import comm
from det.utils.logger import get_logger
from det.utils.progress import progress_bar
from det.utils.rng import get_rng_state, set_rng_state

from .events import EventStorage

__all__ = ["HookBase", "Trainer"]


class HookBase:
    """Base class of the hooks; every method is a no-op.

    Trainer.train() calls them in this order (hooks in registration order each time):

        hook.before_train()            for each hook
        for iter in range(start_iter, max_iter):
            hook.before_step()         for each hook
            trainer.run_step()
            hook.after_step()          for each hook
        hook.after_train()             for each hook; in a `finally`, so also after an error

    `self.trainer` is set by Trainer.register_hooks (a weak proxy: no reference cycle). During a
    step, `trainer.iter` is the 0-based index of the current iteration, so `trainer.iter + 1`
    iterations are done in after_step; after a full run trainer.iter == max_iter.

    A hook with state that must survive --resume (scheduler position, EMA weights) returns it
    from state_dict() and takes it back in load_state_dict(); None means stateless.
    """

    trainer = None

    def before_train(self):
        pass

    def after_train(self):
        pass

    def before_step(self):
        pass

    def after_step(self):
        pass

    def state_dict(self):
        return None

    def load_state_dict(self, state):
        pass


class Trainer:
    """Runs the loop over `data_loader` from start_iter to max_iter with the registered hooks.

    Args:
        model: an engine Module with `model(batch, mode="loss") -> dict of scalar Tensors`.
        optimizer: an engine optimizer over the model's parameters.
        data_loader: an iterable of batches; restarted when exhausted (a new epoch). When its
            sampler is an iterator (engine.data.Infinite), a resumed run skips the consumed
            batches' indices without loading them.
        max_iter: iterations of the whole run.
        gm: the GradManager (default: one attached to model.parameters(), averaging the
            gradients over the ranks when several processes train together).

    With several processes (dist.launcher, mpiexec) every rank runs this loop on its share of
    each batch: train() first copies rank 0's weights to every rank, the gradients are
    averaged over the ranks during backward, and the logged losses are the ranks' means (what
    one process would log for the whole batch).
    """

    def __init__(self, model, optimizer, data_loader, *, max_iter, gm=None):
        from engine.autodiff import GradManager

        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 0:
            raise ValueError(f"Trainer: max_iter must be a non-negative int, got {max_iter!r}")
        self.model = model
        self.optimizer = optimizer
        self.data_loader = data_loader
        self.gm = gm if gm is not None else GradManager().attach(
            model.parameters(), callbacks=comm.allreduce_callbacks())
        self.max_iter = max_iter
        self.start_iter = 0
        self.iter = 0
        self.storage = EventStorage()
        self.eval_results = None  # set by EvalHook
        self._hooks = []
        self._data_iter = None
        self._pending_rng = None
        self.logger = get_logger()

    # ------------------------------------------------------------------- hooks
    def register_hooks(self, hooks):
        """Append hooks (None entries are skipped); they run in the order given."""
        for h in hooks:
            if h is None:
                continue
            if not isinstance(h, HookBase):
                raise TypeError(f"Trainer.register_hooks: expected HookBase instances, got "
                                f"{type(h).__name__}")
            h.trainer = weakref.proxy(self)
            self._hooks.append(h)

    @property
    def hooks(self):
        return list(self._hooks)

    def _call(self, method):
        for h in self._hooks:
            getattr(h, method)()

    # -------------------------------------------------------------------- loop
    def train(self):
        """Run iterations start_iter .. max_iter - 1."""
        self.logger.info(f"Starting training from iteration {self.start_iter} to {self.max_iter}")
        self.iter = self.start_iter
        self.model.train()
        comm.broadcast_module(self.model)
        try:
            self._call("before_train")
            self._data_iter = _forever(self.data_loader, self.start_iter, self.logger)
            if self._pending_rng is not None:
                # after the loader started: starting it may draw from the global streams
                set_rng_state(self._pending_rng)
                self._pending_rng = None
            for it in range(self.start_iter, self.max_iter):
                self.iter = it
                self._call("before_step")
                self.run_step()
                self._call("after_step")
            self.iter = self.max_iter
        finally:
            self._call("after_train")

    def run_step(self):
        """One iteration: next batch, losses, backward, optimizer step; scalars to storage."""
        t0 = time.perf_counter()
        data = next(self._data_iter)
        data_time = time.perf_counter() - t0
        with self.gm:
            losses = self.model(data, mode="loss")
            total = self._total_loss(losses)
            self.gm.backward(total)
        values = {k: float(v.item()) for k, v in losses.items()}
        # the ranks' mean, the same on every rank (so the NaN guard below stops all of them)
        values = dict(zip(values, comm.reduce_mean(list(values.values()))))
        # the NaN guard: stop before the optimizer writes non-finite values into the weights
        if not all(math.isfinite(v) for v in values.values()):
            self.optimizer.clear_grad()
            terms = ", ".join(f"{k}={v}" for k, v in values.items())
            raise FloatingPointError(f"Loss became infinite or NaN at iteration {self.iter}: "
                                     f"{terms}")
        self.optimizer.step().clear_grad()
        total_loss = sum(v for k, v in values.items() if k.startswith("loss"))
        self.storage.put_scalars(self.iter, data_time=data_time, total_loss=total_loss, **values)

    def _total_loss(self, losses):
        if not isinstance(losses, dict):
            raise TypeError(f"Trainer: model(batch, mode='loss') must return a dict of scalar "
                            f"loss Tensors, got {type(losses).__name__}")
        terms = [v for k, v in losses.items() if k.startswith("loss")]
        if not terms:
            raise ValueError(f"Trainer: the model returned no key starting with 'loss' (keys: "
                             f"{sorted(losses)}); nothing to optimise")
        bad = [f"{k}: shape {tuple(v.shape)}" for k, v in losses.items()
               if k.startswith("loss") and getattr(v, "size", 1) != 1]
        if bad:
            raise ValueError(f"Trainer: loss terms must be scalars, got {', '.join(bad)}")
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    # -------------------------------------------------------------- checkpoint
    def state_dict(self):
        """Position and every random stream, plus the hooks' states (called in after_step:
        the next run starts at iter + 1)."""
        hooks = {}
        for h in self._hooks:
            st = h.state_dict()
            if st is not None:
                hooks[_hook_key(h, hooks)] = st
        return {"iteration": self.iter + 1, "hooks": hooks, "rng": get_rng_state()}

    def load_state_dict(self, state):
        self.start_iter = self.iter = int(state["iteration"])
        saved = dict(state.get("hooks", {}))
        seen = {}
        for h in self._hooks:
            if h.state_dict() is None:
                continue
            key = _hook_key(h, seen)
            seen[key] = True
            if key in saved:
                h.load_state_dict(saved.pop(key))
            else:
                self.logger.warning(f"Resume: the checkpoint has no state for hook {key}")
        if saved:
            self.logger.warning(f"Resume: checkpoint states of hooks not registered now were "
                                f"ignored: {sorted(saved)}")
        # applied in train() once the data iterator exists
        self._pending_rng = state.get("rng")


def _hook_key(hook, taken):
    key = type(hook).__name__
    i = 1
    while key in taken:
        key = f"{type(hook).__name__}#{i}"
        i += 1
    return key


def _forever(loader, skip, logger):
    """Batches of `loader` forever (restarting it at each epoch end), after skipping `skip`
    batches: by advancing an iterator sampler's indices (no loading) when possible, else by
    loading and dropping them. The skip and the loader start happen now, not at the first
    next(): the caller restores the RNG state afterwards."""
    sampler = getattr(loader, "sampler", None)
    # an iterator sampler (Infinite) can be advanced alone; iter() on an epoch sampler would
    # draw a permutation, so only __next__ is probed
    if skip and hasattr(sampler, "__next__"):
        for _ in range(skip):
            next(sampler)
        skip = 0
    it = iter(loader)
    if skip:
        logger.info(f"Resume: the loader's sampler cannot skip ahead; loading and dropping "
                    f"{skip} batches")
        for _ in progress_bar(range(skip), desc="skipping consumed batches",
                              disable=not comm.is_main_process()):
            it = _next_batch(loader, it)[1]
    return _batches(loader, it)


def _batches(loader, it):
    while True:
        batch, it = _next_batch(loader, it)
        yield batch


def _next_batch(loader, it):
    try:
        return next(it), it
    except StopIteration:
        it = iter(loader)
        try:
            return next(it), it
        except StopIteration:
            raise RuntimeError("Trainer: the data loader yields no batches (empty dataset?)") \
                from None
