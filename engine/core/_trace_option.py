"""Whether `Tensor.shape` is symbolic (a Tensor) or a tuple.

engine has no tracing (jit.trace is another issue), so shapes are always tuples of ints: the
option is accepted and kept (set from MEGENGINE_USE_SYMBOLIC_SHAPE like MegEngine) and changes
nothing.
"""
import os

__all__ = ["use_symbolic_shape", "set_symbolic_shape"]

_use_symbolic_shape = bool(os.environ.get("MEGENGINE_USE_SYMBOLIC_SHAPE"))


def use_symbolic_shape():
    r"""Returns whether tensor.shape returns a tensor instead of a tuple.

    No effect in engine (shapes are tuples); this is the value last set.

    Returns:
        the option, a bool.

    Examples:
        >>> from engine.core._trace_option import use_symbolic_shape
        >>> use_symbolic_shape()
        False
    """
    return _use_symbolic_shape


def set_symbolic_shape(option):
    r"""Sets whether tensor.shape returns a tensor instead of a tuple.

    No effect in engine (shapes stay tuples); the option is kept.

    Args:
        option: the new value.

    Returns:
        the previous value.

    Examples:
        >>> from engine.core._trace_option import set_symbolic_shape, use_symbolic_shape
        >>> set_symbolic_shape(True)
        False
        >>> set_symbolic_shape(False)
        True
    """
    global _use_symbolic_shape
    org = _use_symbolic_shape
    _use_symbolic_shape = option
    return org
