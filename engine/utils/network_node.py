"""The nodes of an editable graph (engine.utils.network.Network): VarNode, a value, and OpNode,
the op that makes it (MegEngine's network_node).

A VarNode is a Tensor, so engine's functional API builds graphs from it: an op applied to a
VarNode (F.relu(v), v + 1, F.concat([v, w])) adds an OpNode and returns its output VarNodes
instead of computing (engine.ops.core hands such calls to apply_symbolic below). Plain Tensors
mixed in become ImmutableTensor constants. Each VarNode knows its shape and dtype; only a
constant's value, or the value of a var computed from constants alone, can be read
(``numpy()``, ``OutputNode(var).get_value()``); reading any other value raises, since it
exists only once the graph runs (dump it and run it with engine.jit.load / GraphInference).
`v[idx] = w` makes the object v name the new value; ops that read v before keep the old one.

Shapes and dtypes of computed vars come from running the op on stand-in arrays (zeros for
integer and bool inputs, ones otherwise) of the input shapes: the graph records the op and
its attributes, the stand-in result only its output's shape and dtype. An op whose output
shape depends on input values (nonzero, boolean-mask indexing) gets the stand-in's shape as
its recorded one; the dumped graph computes the real one when it runs.
"""
import itertools

import numpy as np

from .. import device as _device
from ..allocator import Storage
from ..tensor import Tensor

__all__ = ["VarNode", "OpNode", "Host2DeviceCopy", "ImmutableTensor", "apply_symbolic",
           "str_to_mge_class"]

_ids = itertools.count()


def _stand_in(shape, dtype):
    dtype = np.dtype(dtype)
    return np.zeros(shape, dtype) if dtype.kind in "biu" else np.ones(shape, dtype)


class VarNode(Tensor):
    """A value of a Network's graph. ``name`` (settable), ``owner`` (the OpNode that makes it),
    ``users`` (the OpNodes that read it), ``shape``, ``dtype``, ``device``; ``var`` is the
    node itself (MegEngine's underlying graph var)."""

    def __new__(cls, var=None, *, owner_opr=None, name=None):
        if not isinstance(var, VarNode):
            raise TypeError("VarNode(var): var must be a VarNode (make vars with "
                            "Network.make_const / make_input_node or ops on VarNodes), got "
                            f"{type(var).__name__}")
        return var  # (MegEngine wraps its graph var anew; here the node is the var)

    def __init__(self, var=None, *, owner_opr=None, name=None):
        if name is not None:
            self.name = name

    @classmethod
    def _make(cls, array, device, owner, name=None, value=None):
        v = object.__new__(cls)
        v._stand = Storage(array, device)  # shape and dtype (and the value of a constant)
        v._idx, v.grad = 0, None
        v.id = next(_ids)
        v.name = name if name is not None else f"var_{v.id}"
        v.owner, v.users = owner, []
        v.value = value  # the value when known (constants and what only they compute)
        return v

    # The op path reads a Tensor's storage from its slot: a VarNode leaves the slot empty, so
    # every op applied to it goes to engine.ops.core._apply_py, which hands it to
    # apply_symbolic; Python code reading ._storage (shapes, dtypes) gets the stand-in.
    @property
    def _storage(self):
        return self._stand

    @_storage.setter
    def _storage(self, storage):  # (an op's result placed on another device: Copy)
        self._stand = storage

    @property
    def var(self):
        return self

    # MegBrain's handles (megbrain_graph, cgtools.replace_vars): var._node is the var itself
    # (a VarNode never joins autograd), var.op its owner
    @property
    def _node(self):
        return self

    @property
    def op(self):
        return self.owner

    def _host(self):
        if self.value is None:
            raise ValueError(f"VarNode {self.name!r} ({self.shape}:{self.dtype}) is computed by "
                             "the graph from its inputs: its value exists once the graph runs "
                             "(dump it and run it with engine.jit.load or GraphInference)")
        return self.value

    def numpy(self):
        return np.array(self._host())

    def _reset(self, other):
        """`v[...] = w`, `v[idx] = w` on a graph var: the Python object now names the new value
        (MegEngine's symbol vars rebind the same way); what read the old value keeps reading
        it, as a var of its own."""
        other = _as_var(other, self._stand.device)
        if other is self:
            return
        old = VarNode._make(self._stand.array, self._stand.device, self.owner, name=self.name,
                            value=self.value)
        old.users = self.users
        for o in old.users:
            o.inputs = [old if i is self else i for i in o.inputs]
        if self.owner is not None:
            self.owner.outputs = [old if v is self else v for v in self.owner.outputs]
        self._stand, self.owner, self.value = other._stand, other.owner, other.value
        self.users = other.users
        for o in self.users:
            o.inputs = [self if i is other else i for i in o.inputs]
        if self.owner is not None:
            self.owner.outputs = [self if v is other else v for v in self.owner.outputs]

    def set_value(self, value):
        """A constant's new value (its ImmutableTensor), same shape; MegEngine's
        ``ImmutableTensor.set_value`` reached through its var."""
        if not isinstance(self.owner, ImmutableTensor):
            raise TypeError(f"set_value: {self.name!r} is not a constant (ImmutableTensor)")
        self.owner.set_value(value)

    def __repr__(self):
        return f"VarNode({self.name!r}, shape={self.shape}, dtype={self.dtype})"


# x op= y on a VarNode makes a new node (`out += 2` rebinds out), as MegEngine's symbol vars do.
def _rebinding(op):
    def inplace(self, other):
        return getattr(Tensor, op)(self, other)
    return inplace


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
            "xor", "lshift", "rshift"):
    setattr(VarNode, f"__i{_op}__", _rebinding(f"__{_op}__"))


class OpNode:
    """An op of a Network's graph: ``type`` (engine's op name, or Host2DeviceCopy /
    ImmutableTensor for inputs and constants), ``name``, ``inputs`` and ``outputs``
    (VarNodes), ``params`` (the op's attributes)."""

    type = "OpNode"

    def __init__(self, op=None, params=None, inputs=(), name=None):
        self.op = op  # the engine op class; None for inputs and constants
        if op is not None:
            self.type = op.__name__
        self.params = dict(params or {})
        self.id = next(_ids)
        self.name = name if name is not None else f"{self.type}_{self.id}"
        self.inputs = list(inputs)
        self.outputs = []
        for v in self.inputs:
            v.users.append(self)

    @property
    def _node(self):  # (MegBrain's handle of an op: the node itself)
        return self

    def add_inp_var(self, var):
        self.inputs.append(var)
        var.users.append(self)

    def add_out_var(self, var):
        self.outputs.append(var)
        var.owner = self

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, type={self.type!r})"


class Host2DeviceCopy(OpNode):
    """A graph input: one var of `shape` and `dtype`, fed at run time."""

    type = "Host2DeviceCopy"

    def __init__(self, shape=None, dtype=None, name=None, device=None):
        super().__init__(name=name)
        dev = _device.get(device) if device is not None else _device.get_default_device_obj()
        self.add_out_var(VarNode._make(_stand_in(tuple(shape), dtype), dev, self,
                                       name=name or f"input_{self.id}"))

    # an input is known by one name: the op's and its var's are the same (modify_opr_names
    # renames the input a dumped file shows)
    @property
    def name(self):
        outputs = self.__dict__.get("outputs")
        return outputs[0].name if outputs else self._name

    @name.setter
    def name(self, name):
        self._name = name
        outputs = self.__dict__.get("outputs")
        if outputs:
            outputs[0].name = name

    @property
    def shape(self):
        return self.outputs[0].shape

    @shape.setter
    def shape(self, shape):  # (Network.reset_batch_size)
        v = self.outputs[0]
        v._stand = Storage(_stand_in(tuple(shape), v.dtype), v._stand.device)

    @property
    def dtype(self):
        return self.outputs[0].dtype


class ImmutableTensor(OpNode):
    """A constant of the graph (a parameter, a number in an expression)."""

    type = "ImmutableTensor"

    def __init__(self, data=None, name=None, device=None, graph=None):
        super().__init__(name=name)
        if isinstance(data, Tensor):
            dev, data = data._storage.device, data._host()
        else:
            dev = _device.get(device) if device is not None else \
                _device.get_default_device_obj()
        # (Tensor's rules for host data: float64 -> float32, int64 -> int32, as MegEngine's)
        a = np.array(Tensor(data)._host())
        self.add_out_var(VarNode._make(a, dev, self, name=name or f"const_{self.id}", value=a))

    @property
    def value(self):
        return self.outputs[0].value

    def set_value(self, value):
        v = self.outputs[0]
        a = np.broadcast_to(np.asarray(value, dtype=v.dtype), v.shape).copy()
        v._stand, v.value = Storage(a, v._stand.device), a


class RandomDraw(OpNode):
    """A draw from engine's RNG in a loaded graph: `method` and its arguments."""

    def __init__(self, method, args, name=None):
        self.type = f"random.{method}"
        super().__init__(name=name)
        self.method, self.args = method, tuple(args)


def str_to_mge_class(type_name):
    """The node class for an op type name (MegEngine's lookup; engine's ops are all OpNode)."""
    return {"Host2DeviceCopy": Host2DeviceCopy, "ImmutableTensor": ImmutableTensor}.get(
        type_name, OpNode)


def _as_var(t, device):
    if isinstance(t, VarNode):
        return t
    return ImmutableTensor(t, device=device).outputs[0]


def apply_symbolic(cls, inputs, attrs):
    """cls applied to inputs of which one or more is a VarNode: a new OpNode of the graph, and
    its output VarNode(s)."""
    from ..ops.core import _reraise

    device = next(t for t in inputs if isinstance(t, VarNode))._stand.device
    ins = [_as_var(t, device) for t in inputs]
    arrays = [v._stand.array for v in ins]
    try:
        with np.errstate(all="ignore"):  # (stand-in values may divide by zero)
            out = cls.forward(device.xp, *arrays, **attrs)
    except (ValueError, TypeError, IndexError) as e:
        _reraise(cls, e, ins, attrs)
    outs = out if cls.n_outputs != 1 else (out,)
    known = all(v.value is not None for v in ins)
    opr = OpNode(cls, attrs, ins)
    for o in outs:
        a = np.asarray(o)
        opr.add_out_var(VarNode._make(a, device, opr, value=a if known else None))
    return opr.outputs[0] if cls.n_outputs == 1 else tuple(opr.outputs)


def _install():
    from ..ops import core

    core.symbolic = (VarNode, apply_symbolic)


_install()
