"""det.engine: the Trainer, its hooks, checkpointing, writers, the default builders and
`launch` (one process or several)."""
from .checkpoint import Checkpointer, load_model_weights
from .defaults import build_hooks, build_optimizer, default_hooks, inference_on_dataset
from .events import ConsoleWriter, EventStorage, JSONWriter, TensorboardWriter
from .hooks import (
    EMAHook,
    EvalHook,
    IterationTimer,
    LRScheduler,
    PeriodicCheckpointer,
    PeriodicWriter,
    build_lr_scheduler,
)
from .launch import launch
from .trainer import HookBase, Trainer

__all__ = [
    "Trainer", "HookBase", "Checkpointer", "load_model_weights", "build_optimizer", "build_hooks",
    "default_hooks", "inference_on_dataset", "EventStorage", "ConsoleWriter", "JSONWriter",
    "TensorboardWriter", "IterationTimer", "LRScheduler", "EMAHook", "PeriodicCheckpointer",
    "EvalHook", "PeriodicWriter", "build_lr_scheduler", "launch",
]
