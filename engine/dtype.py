"""dtypes and their promotion (DESIGN §3).

float32 is the default; numpy float64 data becomes float32 and int64 becomes int32 on the way in,
so a Tensor never holds a 64-bit type. Promotion between tensors follows a small lattice
(bool < uint8/int8 < int16 < int32 < float16 < float32); Python scalars are "weak" and never widen
a tensor's dtype beyond what their kind (bool/int/float) requires.
"""
import numpy as np

bool_ = np.dtype(np.bool_)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)

SUPPORTED = (bool_, uint8, int8, int16, int32, float16, float32)
_NARROW = {np.dtype(np.float64): float32, np.dtype(np.int64): int32,
           np.dtype(np.uint64): int32, np.dtype(np.uint32): int32, np.dtype(np.uint16): int32,
           np.dtype(np.longlong): int32, np.dtype(np.ulonglong): int32}
_RANK = {bool_: 0, uint8: 1, int8: 1, int16: 2, int32: 3, float16: 4, float32: 5}


def canonical(dtype):
    """Map any dtype-like (str, numpy type, np.dtype) to one of SUPPORTED, narrowing 64-bit."""
    if dtype is None:
        return float32
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; expected one of "
                        f"{[str(s) for s in SUPPORTED]}") from None
    d = _NARROW.get(d, d)
    if d not in _RANK:
        raise TypeError(f"dtype {d} is not supported; expected one of "
                        f"{[str(s) for s in SUPPORTED]}")
    return d


_promote_cache = {}


def promote(a, b):
    """Result dtype of a binary op on two tensors of dtypes a and b."""
    key = (a, b)
    r = _promote_cache.get(key)
    if r is None:
        if a == b:
            r = a
        elif {a, b} == {uint8, int8}:
            r = int16  # neither holds the other's range
        else:
            r = a if _RANK[a] >= _RANK[b] else b
        _promote_cache[key] = r
    return r


def scalar_dtype(value, other):
    """dtype a Python scalar takes when combined with a tensor of dtype `other` (weak typing)."""
    if isinstance(value, bool):
        return other
    if isinstance(value, int):
        return other if other != bool_ else int32
    if isinstance(value, float):
        return other if other.kind == "f" else float32
    if isinstance(value, complex):
        raise TypeError("complex numbers are not supported")
    return None
