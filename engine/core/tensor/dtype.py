"""Quantized dtypes as MegEngine describes them: a numpy integer dtype whose metadata carries
``{"mgb_dtype": {"name", "scale"[, "zero_point"]}}``, plus the helpers that read it.

These only describe a quantized dtype; quantized computation belongs to the quantization issue.
"""
import re
from collections import namedtuple

import numpy as np

__all__ = [
    "QuantDtypeMeta", "qint8", "quint8", "qint32", "qint4", "quint4", "get_scale",
    "get_zero_point", "is_quantize", "get_dtype_bit", "is_dtype_equal",
]


class QuantDtypeMeta(namedtuple("QuantDtypeMeta",
                                ["name", "cname", "np_dtype_str", "qmin", "qmax",
                                 "is_unsigned"])):
    r"""Metadata of a quantized dtype: its name, the name in ``mgb_dtype`` metadata (cname), the
    numpy storage dtype and its [qmin, qmax] range."""

    def __new__(cls, name, cname, np_dtype_str, qmin, qmax, is_unsigned=None):
        if is_unsigned is None:
            is_unsigned = np_dtype_str.startswith("u")
        return super().__new__(cls, name, cname, np_dtype_str, qmin, qmax, is_unsigned)


_builtin_quant_dtypes = {
    "quint8": QuantDtypeMeta("quint8", "Quantized8Asymm", "uint8", 0, 255),
    "qint8": QuantDtypeMeta("qint8", "QuantizedS8", "int8", -128, 127),
    "quint4": QuantDtypeMeta("quint4", "Quantized4Asymm", "uint8", 0, 15),
    "qint4": QuantDtypeMeta("qint4", "QuantizedS4", "int8", -8, 7),
    "qint32": QuantDtypeMeta("qint32", "QuantizedS32", "int32", -(2 ** 31), 2 ** 31 - 1),
}


def _quantized(meta, scale, zero_point):
    info = {"name": meta.cname, "scale": float(scale)}
    if meta.is_unsigned:
        if zero_point is None or int(zero_point) != zero_point:
            raise ValueError(f"{meta.name}: zero_point should be an integer, got {zero_point!r}")
        if not meta.qmin <= zero_point <= meta.qmax:
            raise ValueError(f"zero_point should be within [{meta.qmin}, {meta.qmax}] for "
                             f"{meta.name}, got {zero_point}")
        info["zero_point"] = int(zero_point)
    return np.dtype(meta.np_dtype_str, metadata={"mgb_dtype": info})


def qint8(scale):
    r"""Construct a quantized int8 data type with ``scale`` (float). The real value
    represented by a qint8 data type is float_val = scale * int8_val

    Args:
        scale: the quantization step.

    Returns:
        ``np.dtype("int8")`` carrying the scale in its metadata.

    Examples:
        >>> from engine.core.tensor.dtype import qint8, get_scale
        >>> get_scale(qint8(0.5))
        0.5
    """
    return _quantized(_builtin_quant_dtypes["qint8"], scale, None)


def quint8(scale, zero_point):
    r"""Construct a quantized unsigned int8 data type with ``scale`` (float) and ``zero_point``
    (uint8). The real value represented by a quint8 data type is
    float_val = scale * (uint8_val - zero_point)

    Args:
        scale: the quantization step.
        zero_point: the uint8 value that represents 0.0, in [0, 255].

    Returns:
        ``np.dtype("uint8")`` carrying scale and zero_point in its metadata.

    Examples:
        >>> from engine.core.tensor.dtype import quint8, get_zero_point
        >>> get_zero_point(quint8(0.1, 128))
        128
    """
    return _quantized(_builtin_quant_dtypes["quint8"], scale, zero_point)


def qint32(scale):
    r"""Construct a quantized int32 data type with ``scale`` (float):
    float_val = scale * int32_val

    Args:
        scale: the quantization step.

    Returns:
        ``np.dtype("int32")`` carrying the scale in its metadata.

    Examples:
        >>> from engine.core.tensor.dtype import qint32, is_quantize
        >>> is_quantize(qint32(1.0))
        True
    """
    return _quantized(_builtin_quant_dtypes["qint32"], scale, None)


def qint4(scale):
    r"""Construct a quantized int4 data type (stored as int8) with ``scale`` (float).

    Args:
        scale: the quantization step.

    Returns:
        ``np.dtype("int8")`` with QuantizedS4 metadata.

    Examples:
        >>> from engine.core.tensor.dtype import qint4
        >>> qint4(0.25).metadata["mgb_dtype"]["name"]
        'QuantizedS4'
    """
    return _quantized(_builtin_quant_dtypes["qint4"], scale, None)


def quint4(scale, zero_point):
    r"""Construct a quantized unsigned int4 data type (stored as uint8) with ``scale`` and
    ``zero_point`` in [0, 15].

    Args:
        scale: the quantization step.
        zero_point: the value that represents 0.0.

    Returns:
        ``np.dtype("uint8")`` with Quantized4Asymm metadata.

    Examples:
        >>> from engine.core.tensor.dtype import quint4
        >>> quint4(0.25, 8).metadata["mgb_dtype"]["zero_point"]
        8
    """
    return _quantized(_builtin_quant_dtypes["quint4"], scale, zero_point)


def _mgb_info(dtype):
    meta = getattr(np.dtype(dtype), "metadata", None)
    return None if not meta else meta.get("mgb_dtype")


def is_quantize(dtype):
    r"""Whether ``dtype`` is a quantized dtype (carries ``mgb_dtype`` metadata with a scale).

    Args:
        dtype: a dtype-like.

    Returns:
        a bool.

    Examples:
        >>> from engine.core.tensor.dtype import is_quantize, qint8
        >>> is_quantize(qint8(0.1)), is_quantize("float32")
        (True, False)
    """
    info = _mgb_info(dtype)
    return info is not None and "scale" in info


def get_scale(dtype):
    r"""The scale of a quantized dtype.

    Args:
        dtype: a quantized dtype.

    Returns:
        the scale, a float.

    Examples:
        >>> from engine.core.tensor.dtype import get_scale, qint8
        >>> get_scale(qint8(0.125))
        0.125
    """
    if not is_quantize(dtype):
        raise ValueError(f"get_scale: dtype {np.dtype(dtype)} is not a quantized dtype")
    return _mgb_info(dtype)["scale"]


def get_zero_point(dtype):
    r"""The zero point of an asymmetric quantized dtype (0 for symmetric ones).

    Args:
        dtype: a quantized dtype.

    Returns:
        the zero point, an int.

    Examples:
        >>> from engine.core.tensor.dtype import get_zero_point, quint8
        >>> get_zero_point(quint8(0.1, 3))
        3
    """
    if not is_quantize(dtype):
        raise ValueError(f"get_zero_point: dtype {np.dtype(dtype)} is not a quantized dtype")
    return _mgb_info(dtype).get("zero_point", 0)


def get_dtype_bit(dtype_name):
    r"""The number of bits of a dtype named like "float32", "int8" or "bool" (1).

    Args:
        dtype_name: the dtype's name.

    Returns:
        an int.

    Examples:
        >>> from engine.core.tensor.dtype import get_dtype_bit
        >>> get_dtype_bit("float16"), get_dtype_bit("bool")
        (16, 1)
    """
    if dtype_name == "bool":
        return 1
    numbers = re.findall(r"\d+", dtype_name)
    if len(numbers) != 1:
        raise ValueError(f"get_dtype_bit: cannot tell the bits of dtype {dtype_name!r}")
    return int(numbers[0])


def is_dtype_equal(dtype1, dtype2):
    r"""Whether two dtypes are equal, quantization parameters included.

    Args:
        dtype1: a dtype-like.
        dtype2: a dtype-like.

    Returns:
        a bool.

    Examples:
        >>> from engine.core.tensor.dtype import is_dtype_equal, qint8
        >>> is_dtype_equal(qint8(0.1), qint8(0.1)), is_dtype_equal(qint8(0.1), "int8")
        (True, False)
    """
    a, b = np.dtype(dtype1), np.dtype(dtype2)
    return a == b and _mgb_info(a) == _mgb_info(b)


def is_bfloat16(dtype):
    r"""Whether `dtype` is bfloat16 (False without ml_dtypes, which engine takes it from)."""
    from ... import dtype as _dt

    return _dt._names_bfloat16(dtype) and _dt._load_bfloat16() and np.dtype(dtype) == _dt.bfloat16


def __getattr__(name):
    # bfloat16 comes from engine.dtype, which loads ml_dtypes on its first mention only
    if name == "bfloat16":
        from ... import dtype as _dt

        return _dt.bfloat16
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
