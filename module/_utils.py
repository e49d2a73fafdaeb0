"""Helpers shared by the layers: checked argument pairs and positive ints."""


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
