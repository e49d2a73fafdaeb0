"""Builders that turn a config into the training pieces: optimizer, default hooks, inference."""
import os
import time

from det.registry import HOOKS, ConfigBuildError, build_from_config
from det.utils import comm
from det.utils.logger import get_logger
from det.utils.progress import format_eta, progress_bar

from .events import ConsoleWriter, JSONWriter, TensorboardWriter, tensorboard_available
from .hooks import (
    EMAHook,
    EvalHook,
    IterationTimer,
    LRScheduler,
    PeriodicCheckpointer,
    PeriodicWriter,
    build_lr_scheduler,
)

__all__ = ["build_optimizer", "default_hooks", "build_hooks", "inference_on_dataset"]


def build_optimizer(cfg, model):
    """SGD with momentum and weight decay at train.base_lr (the warm-up scales it)."""
    from engine.optimizer import SGD

    t = cfg.train
    return SGD(list(model.parameters()), lr=t.base_lr, momentum=t.get("momentum", 0.9),
               weight_decay=t.get("weight_decay", 0.0))


def default_hooks(cfg, trainer, checkpointer, eval_function=None):
    """detectron2's order: IterationTimer, LRScheduler, [EMAHook], PeriodicCheckpointer,
    [EvalHook], the hooks train.hooks names, PeriodicWriter (console, metrics.json,
    TensorBoard when installed; on rank 0 only). The EMA sits before the checkpointer so that
    each checkpoint holds the EMA of its own step; the user's hooks sit before the writer so
    that the scalars they put are written with their iteration."""
    t = cfg.train
    hooks = [IterationTimer(), LRScheduler(build_lr_scheduler(trainer.optimizer, t))]
    ema = EMAHook(trainer.model, t.get("ema_decay", 0.9998)) if t.get("ema") else None
    hooks.append(ema)
    hooks.append(PeriodicCheckpointer(checkpointer, t.checkpoint_period,
                                      max_to_keep=t.get("max_to_keep")))
    if eval_function is not None:
        hooks.append(EvalHook(t.eval_period, eval_function, ema=ema))
    hooks.extend(build_hooks(cfg))
    if comm.is_main_process():  # one console, metrics.json and event file per job
        writers = [ConsoleWriter(trainer, window=t.get("log_period", 20)),
                   JSONWriter(trainer, os.path.join(cfg.output_dir, "metrics.json"))]
        if tensorboard_available():
            writers.append(TensorboardWriter(trainer, cfg.output_dir))
        hooks.append(PeriodicWriter(writers, period=t.get("log_period", 20)))
    return hooks


def build_hooks(cfg):
    """The hooks train.hooks lists, each a dict for det.registry.HOOKS (dict(name="MyHook",
    period=5) -> MyHook(period=5)); a hook's constructor may also take `output_dir`
    (cfg.output_dir). Returns a list of hooks (empty without train.hooks)."""
    specs = cfg.train.get("hooks") or []
    if not isinstance(specs, (list, tuple)):
        raise ConfigBuildError(f"train.hooks: expected a list of dicts such as "
                               f"[dict(name='MyHook', period=5)], got {specs!r}")
    return [build_from_config(HOOKS, spec, f"train.hooks[{i}]",
                              context={"output_dir": cfg.output_dir})
            for i, spec in enumerate(specs)]


def inference_on_dataset(model, loader, evaluator):
    """evaluator.reset(); per batch evaluator.process(model(batch, mode="predict"), batch);
    returns evaluator.evaluate(). The model runs in eval mode and is put back as it was.

    With several processes every rank runs this on its share of the loader (the test sampler
    splits the images by rank) and evaluate() is called on every rank: gathering the ranks'
    detections is the evaluator's job (COCOEvaluator does it)."""
    log = get_logger()
    was_training = model.training
    model.eval()
    evaluator.reset()
    start = time.perf_counter()
    n = 0
    try:
        for batch in progress_bar(loader, desc="inference", disable=not comm.is_main_process()):
            outputs = model(batch, mode="predict")
            evaluator.process(outputs, batch)
            n += len(outputs)
    finally:
        model.train(was_training)
    total = time.perf_counter() - start
    log.info(f"Inference on {n} images: {format_eta(total)} ({total / max(n, 1):.4f} s/img)")
    return evaluator.evaluate()
