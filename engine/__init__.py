"""engine: a MegEngine-style deep-learning framework. `import engine as mge`."""
# isort: skip_file
# Order matters: tensor first (it imports the ops and engine.functional once Tensor exists).
from .tensor import Parameter, Tensor, tensor
from . import autodiff, dtype, random
from .allocator import get_allocated_memory, get_max_allocated_memory, reset_max_memory_stats
from .device import get_default_device, get_device_count, is_cuda_available, set_default_device
from .serialization import load, save
from . import dtr  # the module is the switch: mge.dtr(...), mge.dtr.enable()
from ._threads import get_num_threads, set_num_threads
from . import _host_memory  # noqa: F401  (applies the host-memory policy at import)
from . import config, jit, logger, version  # noqa: F401  (jit: mge.jit.trace)
from .logger import enable_debug_log, get_logger, set_log_file, set_log_level
from .version import __version__
from ._device_mem import _full_sync, check_misc  # noqa: F401  (_full_sync: private, as in MegEngine)
from .device import (
    coalesce_free_memory, get_cuda_compute_capability, get_cuda_device_property,
    get_cuda_driver_version, get_cuda_version, get_cudnn_version, get_max_reserved_memory,
    get_mem_status_bytes, get_reserved_memory, get_tensorrt_version, is_atlas_available,
    is_cambricon_available, is_rocm_available, set_prealloc_config,
)
import engine.functional as functional

__all__ = [
    "Parameter", "Tensor", "tensor", "autodiff", "dtype", "random", "functional",
    "get_allocated_memory", "get_max_allocated_memory", "reset_max_memory_stats",
    "get_default_device", "get_device_count", "is_cuda_available", "set_default_device",
    "get_num_threads", "set_num_threads",
    "load", "save", "dtr",
    "config", "logger", "version", "enable_debug_log", "get_logger", "set_log_file",
    "set_log_level", "__version__", "check_misc", "coalesce_free_memory",
    "get_cuda_compute_capability", "get_cuda_device_property", "get_cuda_driver_version",
    "get_cuda_version", "get_cudnn_version", "get_max_reserved_memory", "get_mem_status_bytes",
    "get_reserved_memory", "get_tensorrt_version", "is_atlas_available", "is_cambricon_available",
    "is_rocm_available", "set_prealloc_config",
]


def __getattr__(name):
    # engine.module / engine.optimizer / engine.data load on first use
    if name in ("module", "optimizer", "data", "hub", "utils", "core"):
        import importlib

        return importlib.import_module(f"engine.{name}")
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
