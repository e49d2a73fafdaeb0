"""MegEngine's device wrapper (core._wrap): Device over a CompNode, and as_device."""
from ._imperative_rt import CompNode

__all__ = ["Device", "as_device"]


class Device:
    """A device as MegEngine's Python code holds it: Device(), Device("cpu0"), Device(CompNode)
    or Device(another Device)."""

    def __init__(self, device=None):
        if device is None:
            self._cn = CompNode()
        elif isinstance(device, Device):
            self._cn = device._cn
        elif isinstance(device, CompNode):
            self._cn = device
        else:
            self._cn = CompNode(device)

    @property
    def logical_name(self):
        return self._cn.logical_name

    def to_c(self):
        return self._cn

    def __repr__(self):
        return f"{type(self).__qualname__}({self._cn!r})"

    def __str__(self):
        return str(self._cn)

    def __hash__(self):
        return hash(str(self._cn))

    def __eq__(self, other):
        return self._cn == (other if isinstance(other, Device) else Device(other))._cn


def as_device(obj):
    return obj if isinstance(obj, Device) else Device(obj)
