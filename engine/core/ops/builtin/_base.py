"""OpDef: the base of MegEngine-style op descriptors.

A descriptor is a value (its type and attributes; two equal descriptors compare and hash
equal). ``apply(op, *tensors)`` calls ``op._run(*tensors)``, which computes with engine's own
functional code, so the results are ordinary engine Tensors with their gradients.
"""


class OpDef:
    """An op descriptor: type + attributes, run by ``core2.apply``."""

    _attrs = ()  # attribute names, in constructor order
    _defaults = ()  # their defaults (same length as _attrs; a missing tail is required)

    def __init__(self, *args, **kwargs):
        if len(args) > len(self._attrs):
            raise TypeError(f"{type(self).__name__}: at most {len(self._attrs)} positional "
                            f"attributes ({', '.join(self._attrs)}), got {len(args)}")
        values = dict(zip(self._attrs, self._defaults))
        values.update(zip(self._attrs, args))
        for k, v in kwargs.items():
            if k not in self._attrs:
                raise TypeError(f"{type(self).__name__}: unknown attribute {k!r} (it has "
                                f"{', '.join(self._attrs) or 'none'})")
            values[k] = v
        missing = [k for k in self._attrs if k not in values]
        if missing:
            raise TypeError(f"{type(self).__name__}: missing attribute(s) {', '.join(missing)}")
        for k, v in values.items():
            object.__setattr__(self, k, self._check(k, v))

    def _check(self, name, value):
        """Normalises one attribute (subclasses: enum strings, lists to tuples)."""
        return tuple(map(_freeze, value)) if isinstance(value, list) else value

    def _key(self):
        return (type(self),) + tuple(_freeze(getattr(self, k)) for k in self._attrs)

    def __eq__(self, other):
        return isinstance(other, OpDef) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._attrs)
        return f"{type(self).__name__}({inner})"

    def _run(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__}: apply is not implemented in engine")


def _freeze(v):
    if isinstance(v, (list, tuple)):
        return tuple(_freeze(x) for x in v)
    return v


class EnumMode(str):
    """A member of an op's Mode enum: a str (compares equal to its upper-case name)."""

    def __repr__(self):
        return f"{self._owner}.{str.__str__(self)}"


def make_enum(owner, names):
    """A Mode class whose attributes are EnumMode members named `names` (MegEngine's
    ``Elemwise.Mode.ADD``); ``Mode("add")`` parses a name, case-insensitively."""

    class Mode(EnumMode):
        _owner = owner + ".Mode"

        def __new__(cls, name):
            key = str(name).upper()
            if key not in cls._names:
                raise ValueError(f"{owner}: unknown mode {name!r}")
            return cls._members[key]

    Mode._names = tuple(names)
    Mode._members = {}
    for n in names:
        m = str.__new__(Mode, n)
        Mode._members[n] = m
        setattr(Mode, n, m)
    Mode.__qualname__ = Mode._owner
    return Mode
