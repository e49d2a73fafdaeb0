"""engine.core._imperative_rt: the names MegEngine code imports from its C++ runtime module,
over engine's Python runtime.

``core2.apply(op, *tensors)`` runs an op descriptor of engine.core.ops.builtin; ``ops`` holds
the RNG-handle functions; CompNode is a device name resolved by engine.device; Logger sets the
"megbrain" logger's level (engine has no native MegBrain log).
"""
import numpy as np

from ...logger import Logger
from . import core2, imperative, ops  # noqa: F401

__all__ = ["CompNode", "TensorAttr", "OperatorNodeConfig", "Logger", "core2", "ops",
           "imperative"]


class CompNode:
    """A device by name ("xpux", "cpu0", "gpu1", ...), resolved by engine.device.get.

    Examples:
        >>> import engine
        >>> from engine.core._imperative_rt import CompNode
        >>> str(CompNode("cpu0")) == str(engine.tensor([1.0], device="cpu0").device)
        True
    """

    def __init__(self, name="xpux"):
        from ... import device

        self._device = device.get(str(name))
        self.logical_name = str(name)

    @property
    def physical_name(self):
        return self._device.name

    def __str__(self):
        return self._device.name

    __repr__ = __str__

    def __eq__(self, other):
        if isinstance(other, CompNode):
            return self._device is other._device
        return self._device == other

    def __hash__(self):
        return hash(self._device.name)


class TensorAttr:
    """What an op needs to know of a tensor without its value: shape, dtype, comp_node."""

    def __init__(self, shape=(), dtype="float32", comp_node="xpux"):
        self.shape, self.dtype, self.comp_node = tuple(shape), np.dtype(dtype), comp_node

    def __setattr__(self, name, value):
        if name == "dtype":
            value = np.dtype(value)
        object.__setattr__(self, name, value)

    def __repr__(self):
        return f"TensorAttr(shape={self.shape}, dtype={self.dtype}, comp_node={self.comp_node})"


class OperatorNodeConfig:
    """MegBrain's per-op settings (name, comp_node, output dtype) as plain attributes; engine
    builds no MegBrain graph, so they describe and change nothing."""

    def __init__(self, name=None, comp_node=None, dtype=None):
        self.name, self.dtype = name, dtype
        self.comp_node_arr = [] if comp_node is None else [comp_node]

    @property
    def comp_node(self):
        """The one device of the op (MegBrain's rule: asking with several set is an error)."""
        if len(self.comp_node_arr) != 1:
            raise ValueError(f"OperatorNodeConfig: comp_node is one device, but "
                             f"{len(self.comp_node_arr)} are set ({self.comp_node_arr}); read "
                             "comp_node_arr")
        return self.comp_node_arr[0]

    @comp_node.setter
    def comp_node(self, comp_node):
        self.comp_node_arr = [comp_node]

    @property
    def device(self):
        return self.comp_node
