"""Calling the native CPU kernels from an op's forward (shared by the op families).

The kernels take float32 (and int32) host arrays. float16 inputs are widened here and the float
results narrowed back by the caller. On a GPU backend (xp is cupy) these families have no CUDA
kernels yet, so the arrays make a round trip through host memory: correct, but slow.
"""
import numpy as np

from .._native import native


def _to_host(xp, a):
    if xp is np:
        return a
    return xp.asnumpy(a)


def _from_host(xp, a):
    if xp is np or not isinstance(a, np.ndarray):
        return a
    return xp.asarray(a)


def f32(a):
    """float32 view of a float array (copy only when it is float16)."""
    return a if a.dtype == np.float32 else a.astype(np.float32)


def i32(a):
    return a if a.dtype == np.int32 else a.astype(np.int32)


def cpu_kernels(xp, op):
    """engine._C for numpy arrays; a clear error for families without CUDA kernels yet."""
    if xp is not np:
        raise NotImplementedError(f"{op}: no CUDA kernel yet; run it on cpu0")
    return native()


def call(xp, name, *arrays, **attrs):
    """engine._C.<name>(*arrays, **attrs) on host copies; array results come back on xp's device."""
    out = getattr(native(), name)(*(_to_host(xp, a) for a in arrays), **attrs)
    if isinstance(out, tuple):
        return tuple(_from_host(xp, o) for o in out)
    return _from_host(xp, out)
