"""dtypes and their promotion (DESIGN §3).

float32 is the default; numpy float64 data becomes float32 and int64 becomes int32 on the way in,
so a Tensor never holds a 64-bit type. Promotion between tensors follows a small lattice
(bool < uint8/int8 < int16 < int32 < float16 < float32); Python scalars are "weak" and never widen
a tensor's dtype beyond what their kind (bool/int/float) requires.

float16 and bfloat16 are storage types: ops that accumulate (reductions, matmul, convolution,
normalisation, softmax) compute in float32 and cast back, as MegEngine does. numpy has no
bfloat16; engine takes it from the `ml_dtypes` package when that is installed (the same numpy
extension type JAX and TensorFlow use), and otherwise names the missing package in its error.
bfloat16 and float16 promote to float32 (neither holds the other's range and precision).
"""
import sys

import numpy as np

bool_ = np.dtype(np.bool_)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)

# bfloat16 joins these when first named (_load_bfloat16): importing ml_dtypes registers its
# ufunc loops with numpy, ~0.5-0.9 s that every `import engine` would otherwise pay.
SUPPORTED = (bool_, uint8, int8, int16, int32, float16, float32)
LOW_PRECISION = (float16,)
FLOATS = LOW_PRECISION + (float32,)
_LOW_SET, _FLOAT_SET = set(LOW_PRECISION), set(FLOATS)  # fast membership in ops (grown in place)
_NUMBER_SET = set(d for d in SUPPORTED if d != bool_)
_NARROW = {np.dtype(np.float64): float32, np.dtype(np.int64): int32,
           np.dtype(np.uint64): int32, np.dtype(np.uint32): int32, np.dtype(np.uint16): int32,
           np.dtype(np.longlong): int32, np.dtype(np.ulonglong): int32}
_RANK = {bool_: 0, uint8: 1, int8: 1, int16: 2, int32: 3, float16: 4, float32: 5}
_CANONICAL = {d: d for d in _RANK}  # any equal dtype object -> engine's shared instance

_NO_BFLOAT16 = ("engine.dtype: bfloat16 needs the ml_dtypes package (numpy has no bfloat16 type): "
                "pip install ml_dtypes; available dtypes: {}")
_ml_dtypes = None     # the ml_dtypes module, once bfloat16 is registered
_bfloat16_tried = False


def _load_bfloat16():
    """Register bfloat16 (from ml_dtypes) among engine's dtypes, on its first mention; False
    when ml_dtypes is not installed."""
    global _ml_dtypes, _bfloat16_tried, bfloat16, SUPPORTED, LOW_PRECISION, FLOATS
    if not _bfloat16_tried:
        _bfloat16_tried = True
        try:
            import ml_dtypes
        except ImportError:  # bfloat16 stays unavailable; canonical() says so by name
            return False
        bfloat16 = np.dtype(ml_dtypes.bfloat16)
        SUPPORTED = (bool_, uint8, int8, int16, int32, float16, bfloat16, float32)
        LOW_PRECISION = (float16, bfloat16)
        FLOATS = LOW_PRECISION + (float32,)
        for known in (_LOW_SET, _FLOAT_SET, _NUMBER_SET):  # in place: ops hold these sets
            known.add(bfloat16)
        _RANK[bfloat16] = 4
        _CANONICAL[bfloat16] = bfloat16
        _ml_dtypes = ml_dtypes
    return _ml_dtypes is not None


def _names_bfloat16(dtype):
    return str(getattr(dtype, "__name__", dtype)).endswith("bfloat16")


def _lookup(dtype):
    """np.dtype(dtype), registering bfloat16 first when dtype names it; TypeError as numpy's."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        if not (_names_bfloat16(dtype) and _load_bfloat16()):
            raise
        return np.dtype(dtype)
    if not _bfloat16_tried and d.name == "bfloat16":  # an ml_dtypes array the user made
        _load_bfloat16()
    return d


if "ml_dtypes" in sys.modules:  # already imported by the user: registering it costs nothing
    _load_bfloat16()


def __getattr__(name):
    # engine.dtype.bfloat16: registered on first access; without ml_dtypes, say what is missing
    # instead of a bare AttributeError
    if name == "bfloat16":
        if _load_bfloat16():
            return bfloat16
        raise AttributeError(_NO_BFLOAT16.format([str(s) for s in SUPPORTED]))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_float(dtype):
    """True for engine's floating dtypes (float16, bfloat16, float32); any dtype-like."""
    if dtype in _FLOAT_SET:  # the fast path: an np.dtype
        return True
    try:
        return _lookup(dtype) in _FLOAT_SET
    except TypeError:
        return False


def is_low_precision(dtype):
    """True for the 16-bit floats, which accumulate in float32 inside ops; any dtype-like."""
    if dtype in _LOW_SET:
        return True
    try:
        return _lookup(dtype) in _LOW_SET
    except TypeError:
        return False


def is_number(dtype):
    """True for engine's integer and floating dtypes (bfloat16 included, bool not); any
    dtype-like. numpy gives bfloat16 kind "V", so `dtype.kind in "iuf"` does not do this."""
    if dtype in _NUMBER_SET:
        return True
    try:
        return _lookup(dtype) in _NUMBER_SET
    except TypeError:
        return False


def is_bfloat16(dtype):
    """True when `dtype` is bfloat16 (MegEngine's core.tensor.dtype.is_bfloat16)."""
    return _lookup(dtype).name == "bfloat16" and _ml_dtypes is not None


def canonical(dtype):
    """Map any dtype-like (str, numpy type, np.dtype) to one of SUPPORTED, narrowing 64-bit."""
    if dtype is None:
        return float32
    try:
        d = _lookup(dtype)
    except TypeError:
        if _names_bfloat16(dtype) and not _load_bfloat16():
            raise TypeError(_NO_BFLOAT16.format([str(s) for s in SUPPORTED])) from None
        raise TypeError(f"unknown dtype {dtype!r}; expected one of "
                        f"{[str(s) for s in SUPPORTED]}") from None
    d = _NARROW.get(d, d)
    c = _CANONICAL.get(d)
    if c is None:
        raise TypeError(f"dtype {d} is not supported; expected one of "
                        f"{[str(s) for s in SUPPORTED]}")
    # The one shared instance: an unpickled array (a loaded checkpoint, a DataLoader worker's
    # batch) carries an equal but distinct dtype object, and the hot paths test `is float32`.
    return c


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
        elif a in LOW_PRECISION and b in LOW_PRECISION:
            r = float32  # float16 and bfloat16: neither holds the other
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
        return other if other in FLOATS else float32
    if isinstance(value, complex):
        raise TypeError("complex numbers are not supported")
    return None
