"""engine: a MegEngine-style deep-learning framework. `import engine as mge`."""
from . import dtype  # noqa: F401
from .device import (get_default_device, get_device_count, is_cuda_available,  # noqa: F401
                     set_default_device)
from .tensor import Parameter, Tensor, tensor  # noqa: F401  (imports engine.functional too)
from . import autodiff, random  # noqa: F401,E402
from .allocator import (get_allocated_memory, get_max_allocated_memory,  # noqa: F401,E402
                        reset_max_memory_stats)
from .serialization import load, save  # noqa: F401,E402

import engine.functional as functional  # noqa: E402,F401

__version__ = "0.1.0"


def __getattr__(name):
    # engine.module / engine.optimizer / engine.data load on first use
    if name in ("module", "optimizer", "data"):
        import importlib

        return importlib.import_module(f"engine.{name}")
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
