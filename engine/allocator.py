"""Memory accounting: every tensor storage is created here and counts its bytes per device.

A Storage owns one backend array. Views (reshape, transpose, basic indexing, detach) share
their base's Storage, so live bytes are the bytes of the arrays really allocated. DTR
(engine/dtr/) builds on this: it is the one place that knows what is resident.
"""
from . import device as _device_mod
from ._native import _C


class _PyStorageBase:
    """The storage handle in Python, for a source tree without engine._C; the same behaviour
    as csrc/bind/fastpath.cpp's StorageBase, which the hot path uses (no interpreter frames
    for the accounting below)."""

    __slots__ = ("array", "device", "nbytes", "base", "__weakref__")

    def __init__(self, array, device, base=None):
        self.array = array
        self.device = device
        self.base = base
        if base is not None:
            self.nbytes = 0  # the bytes are counted once, on the base
            return
        n = self.nbytes = array.nbytes
        live = device.live = device.live + n  # counters live on the interned Device: fast
        if live > device.peak:
            device.peak = live

    def __del__(self):
        n = getattr(self, "nbytes", 0)  # (unset when __init__ failed: nothing was counted)
        if n:
            self.device.live -= n


# (getattr: an engine._C built before fastpath.cpp still imports, on the Python base)
_StorageBase = getattr(_C, "StorageBase", _PyStorageBase)


class Storage(_StorageBase):
    """One backend array on a device: `Storage(array, device, base=None)`. Without a base its
    bytes count on `device.live` (and `device.peak`) until it dies; a view passes the Storage
    that owns its bytes as `base` and counts nothing."""

    __slots__ = ()

    def __reduce__(self):
        # copy/deepcopy/pickle: a new storage of the (copied) array, counting its own bytes
        return (type(self), (self.array, self.device))


def _root(array):
    while getattr(array, "base", None) is not None and hasattr(array.base, "nbytes"):
        array = array.base
    return array


def storage_for_view(array, device, parent):
    """Storage for an op result that may be a view of `parent`'s array."""
    base = array.base
    if base is None:
        return Storage(array, device)
    p = parent.array
    if base is p or base is p.base or _root(array) is _root(p):
        # (numpy points a view at the owner of the memory: the first two tests, no walk)
        return Storage(array, device, parent.base or parent)
    return Storage(array, device)


def get_allocated_memory(device=None):
    """Bytes held by live tensors on `device` (default: the default device)."""
    return _device_mod.get(device).live


def get_max_allocated_memory(device=None):
    """Peak of get_allocated_memory since start or the last reset_max_memory_stats."""
    return _device_mod.get(device).peak


def reset_max_memory_stats(device=None):
    d = _device_mod.get(device)
    d.peak = d.live
