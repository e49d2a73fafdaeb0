"""engine.utils: dlpack, hook, module_stats (params / FLOPs / activations per layer) and
profiler (a Chrome-trace JSON of every op)."""
import importlib

from . import dlpack, hook  # noqa: F401

__all__ = ["dlpack", "hook", "module_stats", "profiler"]


def __getattr__(name):
    # module_stats and profiler import engine.module; load them on first use
    if name in ("module_stats", "profiler"):
        return importlib.import_module(f"engine.utils.{name}")
    raise AttributeError(f"module 'engine.utils' has no attribute {name!r}")
