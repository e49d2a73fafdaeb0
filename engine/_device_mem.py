"""Memory statistics and device queries of engine.device (MegEngine's names and meanings).

CPU: tensors are numpy arrays allocated straight from the C heap, and freed bytes go back to
it, so the memory engine holds for tensors ("reserved") is what live tensors use ("allocated");
both come from engine.allocator's per-device counters. Total and free memory come from the
operating system (os.sysconf).

GPU: tensors are CuPy arrays from CuPy's memory pool. "allocated" is again engine's own count
of live tensor bytes; "reserved" is what the pool holds (used plus cached free blocks), and its
peak is followed by a small allocator wrapper that engine installs when it creates its first GPU
device (one Python call per pool allocation, on GPU only). Version queries go through
cupy.cuda.runtime.
"""
import enum
import os
import sys

from . import device as _dev

__all__ = [
    "DeviceType", "what_is_xpu", "get_mem_status_bytes", "get_cuda_compute_capability",
    "get_cuda_device_property", "get_cuda_version", "get_cudnn_version", "get_tensorrt_version",
    "get_cuda_driver_version", "is_cambricon_available", "is_atlas_available",
    "is_rocm_available", "get_allocated_memory", "get_reserved_memory",
    "get_max_reserved_memory", "get_max_allocated_memory", "reset_max_memory_stats",
    "set_prealloc_config", "coalesce_free_memory",
]


class DeviceType(enum.Enum):
    """Kinds of device MegEngine names (engine runs on CPU and CUDA only)."""

    UNSPEC = 0
    CUDA = 1
    CPU = 2
    CAMBRICON = 3
    ROCM = 4
    ATLAS = 5
    MULTITHREAD = 6

    def __repr__(self):  # as MegEngine's enum prints in signatures: DeviceType.CUDA
        return f"DeviceType.{self.name}"


# ---- GPU pool peak: followed through a wrapper of CuPy's pool allocator ----------------------

_reserved_peak = {}   # gpu index -> peak of the pool's total_bytes()
_prealloc_config = {"alignment": 1, "min_req": 32 * 1024 * 1024, "max_overhead": 0,
                    "growth_factor": 2.0, "device_type": DeviceType.CUDA}


def _install_pool_tracker(cp):
    """Route CuPy allocations through the default pool, noting each device's pool peak."""
    pool = cp.get_default_memory_pool()
    malloc = pool.malloc
    device_id = cp.cuda.runtime.getDevice

    def tracked_malloc(nbytes):
        mem = malloc(nbytes)
        i = device_id()
        total = pool.total_bytes()
        if total > _reserved_peak.get(i, 0):
            _reserved_peak[i] = total
        return mem

    cp.cuda.set_allocator(tracked_malloc)


def _gpu(device, fname):
    """The interned GPU Device for a device index or spec, or a clear error."""
    if isinstance(device, int):
        device = f"gpu{device}"
    d = _dev.get(device)
    if d.type != "gpu":
        raise RuntimeError(f"{fname}: {d} is not a CUDA device (is_cuda_available() is "
                           f"{_dev.is_cuda_available()})")
    return d


def _pool_bytes(d):
    """Bytes CuPy's default pool holds on GPU device d (used + cached free blocks)."""
    cp = d.xp
    with cp.cuda.Device(d.index):
        return cp.get_default_memory_pool().total_bytes()


def what_is_xpu():
    r"""Return the precise device type like ``cpu``, ``cuda`` and so on.

    Returns:
        "cuda" when a CUDA GPU is available (``xpux`` then means a GPU), else "cpu".

    Examples:
        >>> import engine as mge
        >>> mge.device.what_is_xpu() in ("cpu", "cuda")
        True
    """
    return "cuda" if _dev.is_cuda_available() else "cpu"


def is_cambricon_available():
    r"""Returns whether cambricon device is available on this system: always False, engine has
    no Cambricon backend.

    Examples:
        >>> import engine as mge
        >>> mge.is_cambricon_available()
        False
    """
    return False


def is_atlas_available():
    r"""Returns whether atlas device is available on this system: always False, engine has no
    Atlas backend.

    Examples:
        >>> import engine as mge
        >>> mge.is_atlas_available()
        False
    """
    return False


def is_rocm_available():
    r"""Returns whether rocm device is available on this system: always False, engine has no ROCm
    backend.

    Examples:
        >>> import engine as mge
        >>> mge.is_rocm_available()
        False
    """
    return False


def get_mem_status_bytes(device=None):
    r"""Get total and free memory on the computing device in bytes.

    Args:
        device: a device name ("cpu0", "gpu0", ...); None for the default device.

    Returns:
        ``(total, free)``: on CPU the machine's physical memory and its free part (os.sysconf);
        on GPU what cudaMemGetInfo reports.

    Examples:
        >>> import engine as mge
        >>> total, free = mge.get_mem_status_bytes("cpu0")
        >>> 0 < free <= total
        True
    """
    d = _dev.get(device)
    if d.type == "cpu":
        page = os.sysconf("SC_PAGE_SIZE")
        return os.sysconf("SC_PHYS_PAGES") * page, os.sysconf("SC_AVPHYS_PAGES") * page
    with d.xp.cuda.Device(d.index):
        free, total = d.xp.cuda.runtime.memGetInfo()
    return total, free


class _DeviceProperties:
    """What get_cuda_device_property returns: MegEngine's fields from cudaGetDeviceProperties."""

    def __init__(self, props):
        name = props["name"]
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.total_memory = int(props["totalGlobalMem"])
        self.major = int(props["major"])
        self.minor = int(props["minor"])
        self.multi_processor_count = int(props["multiProcessorCount"])

    def __repr__(self):
        return (f"_DeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // (1024 * 1024)}MB)")


def get_cuda_device_property(device, device_type=DeviceType.CUDA):
    r"""Gets the properties of a CUDA device.

    Args:
        device: device number.
        device_type: the device type; only ``DeviceType.CUDA`` has properties in engine.

    Returns:
        an object with ``name``, ``total_memory`` (bytes), ``major``, ``minor`` and
        ``multi_processor_count``.

    Examples:
        >>> import engine as mge
        >>> if mge.is_cuda_available():
        ...     assert mge.get_cuda_device_property(0).total_memory > 0
    """
    if device_type not in (DeviceType.CUDA, DeviceType.UNSPEC):
        raise RuntimeError(f"get_cuda_device_property: device_type {device_type} is not "
                           "supported by engine (CUDA only)")
    d = _gpu(device, "get_cuda_device_property")
    return _DeviceProperties(d.xp.cuda.runtime.getDeviceProperties(d.index))


def get_cuda_compute_capability(device, device_type=DeviceType.CUDA):
    r"""Gets compute capability of the specified device.

    Args:
        device: device number.
        device_type: the device type (CUDA).

    Returns:
        a version number, or `SM version` (major * 10 + minor, e.g. 90 for an H100).

    Examples:
        >>> import engine as mge
        >>> if mge.is_cuda_available():
        ...     assert mge.get_cuda_compute_capability(0) >= 30
    """
    prop = get_cuda_device_property(device, device_type)
    return prop.major * 10 + prop.minor


def _cupy_version(query):
    cp = _dev._load_cupy()
    return 0 if cp is None else int(query(cp))


def get_cuda_version():
    r"""Gets the CUDA runtime version engine's GPU arrays (CuPy) use.

    Returns:
        ``CUDA_VERSION_MAJOR * 1000 + CUDA_VERSION_MINOR * 10``, or 0 when there is no CUDA.

    Examples:
        >>> import engine as mge
        >>> mge.get_cuda_version() >= 0
        True
    """
    return _cupy_version(lambda cp: cp.cuda.runtime.runtimeGetVersion())


def get_cuda_driver_version():
    r"""Gets the latest version of CUDA supported by the driver.

    Returns:
        ``CUDA_VERSION_MAJOR * 1000 + CUDA_VERSION_MINOR * 10``, or 0 when there is no driver.

    Examples:
        >>> import engine as mge
        >>> mge.get_cuda_driver_version() >= 0
        True
    """
    return _cupy_version(lambda cp: cp.cuda.runtime.driverGetVersion())


def get_cudnn_version():
    r"""Get the cuDNN version engine uses: 0, because engine's kernels call no cuDNN.

    Returns:
        0.

    Examples:
        >>> import engine as mge
        >>> mge.get_cudnn_version()
        0
    """
    return 0


def get_tensorrt_version():
    r"""Get the TensorRT version engine uses: 0, because engine has no TensorRT runtime.

    Returns:
        0.

    Examples:
        >>> import engine as mge
        >>> mge.get_tensorrt_version()
        0
    """
    return 0


def get_allocated_memory(device=None):
    r"""Returns the current memory occupied by tensors on the computing device in bytes.

    engine runs synchronously, so the value is exact without a ``_full_sync``.

    Args:
        device: a device name; None for the default device.

    Returns:
        bytes of the live tensor storages on the device (views count once).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> before = mge.get_allocated_memory("cpu0")
        >>> x = mge.tensor(np.zeros(1000, "float32"), device="cpu0")
        >>> mge.get_allocated_memory("cpu0") - before
        4000
    """
    return _dev.get(device).live


def get_max_allocated_memory(device=None):
    r"""Returns the maximum memory occupied by tensors on the computing device in bytes, since
    the start or the last :func:`reset_max_memory_stats`.

    Args:
        device: a device name; None for the default device.

    Returns:
        the peak of :func:`get_allocated_memory`.

    Examples:
        >>> import engine as mge
        >>> mge.get_max_allocated_memory("cpu0") >= mge.get_allocated_memory("cpu0")
        True
    """
    return _dev.get(device).peak


def get_reserved_memory(device=None):
    r"""Returns the current memory managed by the caching allocator on the computing device in
    bytes.

    Args:
        device: a device name; None for the default device.

    Returns:
        on GPU the bytes CuPy's memory pool holds (live and cached); on CPU, which has no
        caching allocator, the bytes of live tensors (equal to :func:`get_allocated_memory`).

    Examples:
        >>> import engine as mge
        >>> mge.get_reserved_memory("cpu0") == mge.get_allocated_memory("cpu0")
        True
    """
    d = _dev.get(device)
    return d.live if d.type == "cpu" else _pool_bytes(d)


def get_max_reserved_memory(device=None):
    r"""Returns the maximum memory managed by the caching allocator on the computing device in
    bytes, since the start or the last :func:`reset_max_memory_stats`.

    Args:
        device: a device name; None for the default device.

    Returns:
        the peak of :func:`get_reserved_memory`.

    Examples:
        >>> import engine as mge
        >>> mge.get_max_reserved_memory("cpu0") >= mge.get_reserved_memory("cpu0")
        True
    """
    d = _dev.get(device)
    if d.type == "cpu":
        return d.peak
    return max(_reserved_peak.get(d.index, 0), _pool_bytes(d))


def reset_max_memory_stats(device=None):
    r"""Resets the maximum stats on the computing device: the peaks become the current values.

    Args:
        device: a device name; None for the default device.

    Examples:
        >>> import engine as mge
        >>> mge.reset_max_memory_stats("cpu0")
        >>> mge.get_max_allocated_memory("cpu0") == mge.get_allocated_memory("cpu0")
        True
    """
    d = _dev.get(device)
    d.peak = d.live
    if d.type == "gpu":
        _reserved_peak[d.index] = _pool_bytes(d)


def set_prealloc_config(alignment=1, min_req=32 * 1024 * 1024, max_overhead=0,
                        growth_factor=2.0, device_type=DeviceType.CUDA):
    r"""Specifies how to pre-allocate from raw device allocator.

    No effect in engine: CPU tensors come from the C heap and GPU tensors from CuPy's memory
    pool, neither of which pre-allocates. The arguments are checked as MegEngine checks them and
    kept (``engine.device._prealloc_config``).

    Args:
        alignment: specifies the alignment in bytes.
        min_req: min request size in bytes.
        max_overhead: max overhead above required size in bytes.
        growth_factor: request size / cur allocated
        device_type: the device type

    Examples:
        >>> import engine as mge
        >>> mge.set_prealloc_config(1024, 1024, 0, 1.5)
        >>> mge.device._prealloc_config["growth_factor"]
        1.5
        >>> mge.set_prealloc_config()
    """
    assert alignment > 0, f"set_prealloc_config: alignment must be > 0, got {alignment}"
    assert min_req > 0, f"set_prealloc_config: min_req must be > 0, got {min_req}"
    assert max_overhead >= 0, f"set_prealloc_config: max_overhead must be >= 0, got {max_overhead}"
    assert growth_factor >= 1, (
        f"set_prealloc_config: growth_factor must be >= 1, got {growth_factor}")
    _prealloc_config.update(alignment=alignment, min_req=min_req, max_overhead=max_overhead,
                            growth_factor=growth_factor, device_type=device_type)


def coalesce_free_memory():
    r"""This function will try it best to free all consecutive free chunks back to operating
    system, small pieces may not be returned.

    On GPU it returns the cached free blocks of CuPy's memory pools to the driver; on CPU freed
    tensor memory already goes back to the C heap, so there is nothing to do.

    Examples:
        >>> import engine as mge
        >>> mge.coalesce_free_memory()
    """
    cp = sys.modules.get("cupy")
    if cp is not None and _dev._cupy is not None:
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()


def _full_sync():
    r"""Waits until every queued computation has finished.

    engine runs ops synchronously on CPU, so there is nothing to wait for there; on GPU this
    synchronizes every CUDA device CuPy has (kernels are queued on CUDA streams).

    Examples:
        >>> import engine as mge
        >>> mge._full_sync()
    """
    cp = sys.modules.get("cupy")
    if cp is None or _dev._cupy is None:
        return
    current = cp.cuda.runtime.getDevice()
    try:
        for i in range(cp.cuda.runtime.getDeviceCount()):
            cp.cuda.runtime.setDevice(i)
            cp.cuda.runtime.deviceSynchronize()
    finally:
        cp.cuda.runtime.setDevice(current)


def check_misc():
    r"""Checks and prepares the process environment, as MegEngine does at import: CUDA modules
    load lazily (``CUDA_MODULE_LOADING=LAZY`` unless the user set it), which saves GPU memory.

    Examples:
        >>> import engine as mge
        >>> mge.check_misc()
    """
    if not os.getenv("ALREADY_CONFIG_CUDA_LOADING_MODE"):
        os.environ.setdefault("CUDA_MODULE_LOADING", "LAZY")
