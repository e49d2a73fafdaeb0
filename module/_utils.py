"""Helpers shared by the layers: argument pairs and late lookup of functional ops."""
import engine.functional as F


def functional(name):
    """engine.functional's `name` (also searched in F.nn), looked up when a layer runs.

    Layers are written against MegEngine's functional signatures; some functions (conv2d,
    pooling, batch_norm, group_norm) live in other parts of the tree and may be absent from a
    partial build, which gets a clear error at call time rather than at import.
    """
    fn = getattr(F, name, None) or getattr(F.nn, name, None)
    if fn is None:
        raise NotImplementedError(f"engine.functional.{name} is not available in this build; "
                                  f"the layer that needs it cannot run")
    return fn


def pair(value, name, layer, nonzero=False):
    """(a, b) from an int or a pair of ints, checked (non-negative, or positive if nonzero)."""
    vals = (value, value) if isinstance(value, int) else tuple(value)
    if len(vals) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        raise TypeError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
    if any(v < (1 if nonzero else 0) for v in vals):
        raise ValueError(f"{layer}: {name} must be {'positive' if nonzero else 'non-negative'}, "
                         f"got {value!r}")
    return vals


def positive_int(value, name, layer):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return value
