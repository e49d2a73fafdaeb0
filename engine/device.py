"""Devices ("cpu0", "gpu0", "xpux") and the array module behind each.

A Device is interned (one object per name), so comparing devices in the hot path is `is`.
CPU arrays are numpy arrays; GPU arrays are CuPy arrays. CuPy is optional: it is imported the
first time a GPU device is asked for, and importing engine never needs it.
"""
import os
import re

import numpy as np

from ._native import _C

_NAME = re.compile(r"^(cpu|gpu|cuda|xpu)(\d+|x)?(:\d+)?$")
_devices = {}
_default = None
_default_spec = None  # the name set_default_device was given
_cupy = None
_cupy_checked = False
_devices_gpu_seen = []  # non-empty once a GPU Device was made (the pool tracker is installed)


def _load_cupy():
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # no CuPy, no driver or no GPU: the GPU is simply unavailable
            _cupy = None
    return _cupy


def is_cuda_available():
    r"""Returns whether cuda device is available on this system (CuPy imports and sees a GPU).

    Examples:
        >>> import engine as mge
        >>> mge.is_cuda_available() in (True, False)
        True
    """
    return _load_cupy() is not None


def get_device_count(device_type="gpu"):
    r"""Gets number of devices installed on this system.

    Args:
        device_type: device type, one of 'gpu' or 'cpu' ('xpu': GPUs; 'rocm', 'cambricon' and
            'atlas' have no backend in engine and count 0).

    Returns:
        the number of GPUs, or of CPU cores for 'cpu' (as MegEngine counts them).

    Examples:
        >>> import engine as mge
        >>> mge.get_device_count("cpu") >= 1
        True
    """
    if device_type in ("gpu", "cuda", "xpu"):
        cp = _load_cupy()
        return 0 if cp is None else cp.cuda.runtime.getDeviceCount()
    if device_type == "cpu":
        return os.cpu_count() or 1
    if device_type in ("rocm", "cambricon", "atlas"):
        return 0
    raise ValueError(f"get_device_count: unknown device type {device_type!r}; "
                     "expected 'gpu' or 'cpu'")


class _PyDeviceCounters:
    """A device's live and peak bytes, for a source tree without engine._C (whose
    DeviceCounters keeps them as C integers that the Storage handle updates directly)."""

    __slots__ = ("live", "peak")


class Device(getattr(_C, "DeviceCounters", _PyDeviceCounters)):  # (a stale _C: Python's)
    __slots__ = ("type", "index", "name", "xp")

    def __init__(self, type_, index, xp):
        self.type = type_
        self.index = index
        self.name = f"{type_}{index}"
        self.xp = xp
        self.live = 0   # bytes of live storages (engine.allocator keeps these)
        self.peak = 0

    def __repr__(self):
        return self.name

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, Device):
            return self is other
        if isinstance(other, str):
            try:
                return get(other) is self
            except ValueError:
                return False
        return NotImplemented

    def __hash__(self):
        return hash(self.name)

    def __reduce__(self):
        return (get, (self.name,))

    @property
    def logical_name(self):
        """MegEngine's CompNode name with its stream, "cpu0:0": engine runs one stream per
        device."""
        return f"{self.name}:0"


def get(spec=None):
    """Resolve a device spec (None, str or Device) to an interned Device."""
    if spec is None:
        return get_default_device_obj()
    if isinstance(spec, Device):
        return spec
    d = _devices.get(spec)
    if d is not None:
        return d
    if not isinstance(spec, str):
        raise TypeError(f"device must be a str like 'cpu0' or 'gpu0', got {type(spec).__name__}")
    m = _NAME.match(spec.strip())
    if m is None:
        raise ValueError(f"unknown device {spec!r}; expected 'cpu0', 'gpu0', 'cuda0' or 'xpux'")
    kind, idx = m.group(1), m.group(2) or "0"
    if kind == "xpu":
        kind = "gpu" if is_cuda_available() else "cpu"
    if kind == "cuda":
        kind = "gpu"
    index = 0 if idx == "x" else int(idx)
    if kind == "cpu":
        xp = np
    else:
        cp = _load_cupy()
        if cp is None:
            raise ValueError(f"device {spec!r} requested but no CUDA GPU is available "
                             "(is CuPy installed? see `pip install -e .[cuda]`)")
        if index >= cp.cuda.runtime.getDeviceCount():
            raise ValueError(f"device {spec!r}: only {cp.cuda.runtime.getDeviceCount()} GPU(s)")
        xp = cp
        if not _devices_gpu_seen:
            _devices_gpu_seen.append(True)
            from ._device_mem import _install_pool_tracker

            _install_pool_tracker(cp)
    key = f"{kind}{index}"
    d = _devices.get(key)
    if d is None:
        d = _devices[key] = Device(kind, index, xp)
    _devices[spec] = d
    return d


def get_default_device_obj():
    global _default
    if _default is None:
        _default = get("cpu0")
    return _default


def set_default_device(device="xpux"):
    r"""Sets default computing node.

    Args:
        device: default device type: 'cpu0', 'gpu0', ...; 'xpux' (the default) is a GPU when
            one is available, else the CPU.

    Examples:
        >>> import engine as mge
        >>> old = mge.get_default_device()
        >>> mge.set_default_device("cpu0")
        >>> mge.get_default_device()
        'cpu0'
        >>> mge.set_default_device(old)
    """
    global _default, _default_spec
    _default = get(device)
    _default_spec = device if isinstance(device, str) else _default.name


def get_default_device():
    r"""Gets default computing node: the name given to :func:`set_default_device`, as given
    (MegEngine's rule); before any, "xpux" where that is the default device (a machine without a
    GPU), else the default device's name.

    Examples:
        >>> import engine as mge
        >>> mge.get_default_device() in ("xpux", "cpu0")
        True
    """
    d = get_default_device_obj()
    if _default_spec is not None:
        return _default_spec
    return "xpux" if get("xpux") is d else d.name


def of_array(array):
    """The device an array lives on."""
    if isinstance(array, np.ndarray):
        return get("cpu0")
    return get(f"gpu{array.device.id}")


# MegEngine's memory statistics and device queries (split out to keep this file small).
from ._device_mem import (  # noqa: E402, F401, I001
    DeviceType, coalesce_free_memory, get_allocated_memory, get_cuda_compute_capability,
    get_cuda_device_property, get_cuda_driver_version, get_cuda_version, get_cudnn_version,
    get_max_allocated_memory, get_max_reserved_memory, get_mem_status_bytes, get_reserved_memory,
    get_tensorrt_version, is_atlas_available, is_cambricon_available, is_rocm_available,
    reset_max_memory_stats, set_prealloc_config, what_is_xpu, _prealloc_config,
)

__all__ = [
    "is_cuda_available", "is_cambricon_available", "is_atlas_available", "is_rocm_available",
    "get_device_count", "get_default_device", "set_default_device", "get_mem_status_bytes",
    "get_cuda_compute_capability", "get_cuda_device_property", "get_cuda_version",
    "get_cudnn_version", "get_tensorrt_version", "get_cuda_driver_version",
    "get_allocated_memory", "get_reserved_memory", "get_max_reserved_memory",
    "get_max_allocated_memory", "reset_max_memory_stats", "set_prealloc_config",
    "coalesce_free_memory",
]


def __getattr__(name):
    # MegEngine's `from megengine.device import CompNode`: the runtime's class, imported on
    # first use (engine.core imports this module)
    if name == "CompNode":
        from .core._imperative_rt import CompNode

        return CompNode
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
