"""Calling the native CPU kernels from an op's forward (shared by the op families).

The kernels take float32 (and int32) host arrays. float16 inputs are widened here (f32) and the
float results narrowed back by the caller (to_dtype); between float32 and float16 host arrays of
some size both use the CPU's F16C conversion (engine._C.float_to_half / half_to_float), which is
bit-for-bit numpy's astype (round to nearest even) and many times faster. On a GPU backend (xp
is cupy) these families have no CUDA kernels yet, so the arrays make a round trip through host
memory: correct, but slow.
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


_F16, _F32 = np.dtype(np.float16), np.dtype(np.float32)
_NATIVE_HALF_MIN = 4096  # below this numpy's astype is as fast as a call into engine._C
_f16c = None


def _has_f16c():
    global _f16c
    if _f16c is None:
        _f16c = bool(getattr(native(), "has_f16c", lambda: False)())
    return _f16c


def f32(a):
    """float32 view of a float array (copy only when it is float16)."""
    if a.dtype == np.float32:
        return a
    if a.dtype == _F16 and type(a) is np.ndarray and a.size >= _NATIVE_HALF_MIN and _has_f16c():
        return native().half_to_float(a)
    return a.astype(np.float32)


def to_dtype(a, dtype):
    """a.astype(dtype, copy=False), with float32 <-> float16 host arrays converted in hardware."""
    if a.dtype == dtype:
        return a
    if (type(a) is np.ndarray and a.size >= _NATIVE_HALF_MIN and _has_f16c()
            and {a.dtype, dtype} == {_F16, _F32}):
        return native().float_to_half(a) if dtype == _F16 else native().half_to_float(a)
    return a.astype(dtype)


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
