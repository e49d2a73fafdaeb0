"""engine: a MegEngine-style deep-learning framework. `import engine as mge`."""
# isort: skip_file
# Order matters: tensor first (it imports the ops and engine.functional once Tensor exists).
from .tensor import Parameter, Tensor, tensor
from . import autodiff, dtype, random
from .allocator import get_allocated_memory, get_max_allocated_memory, reset_max_memory_stats
from .device import get_default_device, get_device_count, is_cuda_available, set_default_device
from .serialization import load, save
from ._dtr import dtr
import engine.functional as functional

__version__ = "0.1.0"

__all__ = [
    "Parameter", "Tensor", "tensor", "autodiff", "dtype", "random", "functional",
    "get_allocated_memory", "get_max_allocated_memory", "reset_max_memory_stats",
    "get_default_device", "get_device_count", "is_cuda_available", "set_default_device",
    "load", "save", "dtr",
]


def __getattr__(name):
    # engine.module / engine.optimizer / engine.data load on first use
    if name in ("module", "optimizer", "data"):
        import importlib

        return importlib.import_module(f"engine.{name}")
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
