"""The op protocol: every op is declared once, forward and backward side by side.

    class Exp(Op):
        save_outputs = True
        def forward(xp, x):            # raw backend arrays in, array(s) out
            return xp.exp(x)
        def backward(ctx, dy):         # Tensors in, Tensors out, written with other ops
            return dy * ctx.outputs[0]

`forward` gets the array module `xp` (numpy or cupy) first, then the input arrays and the
op's attributes as keywords. `backward` gets a Node as ctx (ctx.inputs, ctx.outputs,
ctx.attrs, ctx.needs_input_grad) and returns one gradient (or None) per input. Because
backward is written with ops, a GradManager recording the backward pass gets higher-order
gradients for free.

Hot path: `Op.apply` does one forward call, wraps the result and, only when a GradManager is
recording and an input is tracked, creates a Node. Nothing else (no logging, no inspect).
Where engine._C is built, Op.apply is `classmethod(_C.op_apply)` (csrc/bind/op_apply.cpp):
the steps of `_apply_py` below in C, which hands the unusual calls back to `_apply_py`,
`_result` and `_reraise`. The operators and unary functions enter through `apply1(cls, x)` /
`apply2(cls, a, b)` (`_C.op_call`): the same op, positional, no attributes. Hooks that
replace `apply` (DTR, the profiler, autocast) count themselves in `apply_hooks`, and while any
is installed those entries call `cls.apply`. The Storage, the device's byte counters and the
Node are C types (csrc/bind/fastpath.cpp); all of these have pure-Python twins here for a tree
without engine._C.
bench/op_overhead.py measures all this against torch.
"""
import types

import numpy as np

from .. import allocator
from .._native import _C
from ..allocator import Storage
from ..tensor import Tensor

# Number of GradManagers currently recording. Written by engine.autodiff only.
recording = 0


class LeafNode:
    """Marks a tensor attached to a GradManager: the graph's leaves, never released."""

    __slots__ = ("__weakref__",)
    edges = ()


class _PyNodeBase:
    """The node's fields in Python, for a source tree without engine._C (whose NodeBase in
    csrc/bind/fastpath.cpp builds the same fields without an interpreter frame)."""

    __slots__ = ("op", "edges", "attrs", "saved", "n_outputs", "needs_input_grad",
                 "__weakref__")

    def __init__(self, op, inputs, attrs, saved, n_outputs):
        self.op = op
        self.edges = tuple([(t._storage, t._node, t._idx) for t in inputs])
        self.attrs = attrs
        self.saved = saved          # output storages when op.save_outputs, else None
        self.n_outputs = n_outputs
        self.needs_input_grad = None


class Node(getattr(_C, "NodeBase", _PyNodeBase)):  # (a _C built before fastpath.cpp: Python's)
    """One recorded op application: the edge list of the autograd graph.

    ``Node(op, inputs, attrs, saved, n_outputs)``: ``edges`` holds each input as a
    (storage, node, index) triple, not the input Tensor object: an in-place op later rebinds a
    Tensor object to a new value, and the graph must keep seeing the value the op really
    consumed. ``saved`` holds the output storages when op.save_outputs, else None.
    """

    __slots__ = ()

    @property
    def inputs(self):
        """The op's inputs as Tensors, at their place in the graph."""
        return [_tensor(s, n, i) for s, n, i in self.edges]

    @property
    def outputs(self):
        """The op's outputs as Tensors that belong to this node (for higher-order grads)."""
        return [_tensor(s, self, i) for i, s in enumerate(self.saved)]

    def release(self):
        """Forget the graph behind this node: its outputs become constants."""
        self.edges = ()
        self.saved = None


def _tensor(storage, node=None, idx=0):
    t = _Tensor_new(Tensor)
    t._storage = storage
    t._node = node
    t._idx = idx
    t.grad = None
    t.name = ""
    return t


class Op:
    """Base of all ops. Subclasses define forward (static) and backward (static) or set
    differentiable = False."""

    n_outputs = 1
    differentiable = True
    save_outputs = False   # backward reads ctx.outputs
    view = False           # forward may return a view of inputs[0]
    remote = False         # backward talks to another process (autodiff runs it regardless)

    @staticmethod
    def forward(xp, *arrays, **attrs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    # Op.apply(*inputs, **attrs): engine._C.op_apply (csrc/bind/op_apply.cpp), the C form of
    # _apply_py below; set after the class (a tree without engine._C keeps _apply_py).

    @classmethod
    def _storage(cls, array, device, inputs):
        if isinstance(array, np.generic):  # numpy reductions return scalars, not 0-d arrays
            array = np.asarray(array)
        if cls.view and inputs:
            return allocator.storage_for_view(array, device, inputs[0]._storage)
        return Storage(array, device)

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if not cls.__name__.startswith("_"):  # private bases share code, they are not ops
            prev = REGISTRY.get(cls.__name__)
            if prev is not None:
                # two ops of one name would silently replace each other in the table (and in
                # every test row that names it): refuse the second
                raise TypeError(f"op {cls.__name__} ({cls.__module__}) is already declared in "
                                f"{prev.__module__}; give the new op another name")
            REGISTRY[cls.__name__] = cls
        for name in ("forward", "backward"):
            f = cls.__dict__.get(name)
            if f is not None and not isinstance(f, staticmethod):
                setattr(cls, name, staticmethod(f))


# (VarNode, apply_symbolic) once engine.utils.network_node is imported: ops applied to a graph's
# VarNodes build the graph. A VarNode leaves its storage slot empty, so engine._C.op_apply hands
# every such call here and the hot path never tests for them.
symbolic = None


def _apply_py(cls, *inputs, **attrs):
    """Op.apply in Python: the reference for engine._C.op_apply, which hands it any call it
    does not take itself (no inputs, many inputs, non-Tensor inputs, VarNodes)."""
    if symbolic is not None:
        for t in inputs:
            if isinstance(t, symbolic[0]):
                return symbolic[1](cls, inputs, attrs)
    # forward is called with positional arrays for one and two inputs: a star-call costs
    # more than the rest of the dispatch.
    s = inputs[0]._storage
    device = s.device
    x = s.array  # the arrays are read outside the try (DTR may recompute them here)
    n = len(inputs)
    if n == 2:
        s2 = inputs[1]._storage
        if s2.device is not device:
            _device_mismatch(cls, inputs)
        y = s2.array
    elif n != 1:
        arrays = [x]
        for t in inputs[1:]:
            s2 = t._storage
            if s2.device is not device:
                _device_mismatch(cls, inputs)
            arrays.append(s2.array)
    try:
        if n == 1:
            out = cls.forward(device.xp, x, **attrs) if attrs else cls.forward(device.xp, x)
        elif n == 2:
            out = (cls.forward(device.xp, x, y, **attrs) if attrs else
                   cls.forward(device.xp, x, y))
        else:
            out = cls.forward(device.xp, *arrays, **attrs)
    except (ValueError, TypeError, IndexError) as e:
        _reraise(cls, e, inputs, attrs)
    return _result(cls, out, device, inputs, attrs)


_ndarray = np.ndarray


def _result(cls, out, device, inputs, attrs):
    """Wrap forward's result: a Storage and a Tensor per output, and a Node when a GradManager
    records and an input is tracked."""
    node = None
    if recording and cls.differentiable:
        for t in inputs:
            if t._node is not None:
                node = True
                break
    if cls.n_outputs != 1:
        storages = tuple(cls._storage(o, device, inputs) for o in out)
        if node:
            node = Node(cls, inputs, attrs, storages if cls.save_outputs else None,
                        cls.n_outputs)
        return tuple(_tensor(s, node, i) for i, s in enumerate(storages))
    if type(out) is not _ndarray:
        s = cls._storage(out, device, inputs)
    elif cls.view:
        s = allocator.storage_for_view(out, device, inputs[0]._storage)
    else:
        s = Storage(out, device)
    if node:
        node = Node(cls, inputs, attrs, (s,) if cls.save_outputs else None, 1)
    t = _Tensor_new(_Tensor)
    t._storage = s
    t._node = node
    t._idx = 0
    t.grad = None
    t.name = ""
    return t


def _untracked(out, device):
    """The Tensor of a plain single-output result outside recording: no Node, no view."""
    t = _Tensor_new(_Tensor)
    t._storage = Storage(out, device)
    t._node = None
    t._idx = 0
    t.grad = None
    t.name = ""
    return t


# Hooks that replace an op's `apply` (DTR, the profiler, autocast) count themselves here while
# installed. The positional entries below run the plain path only while it is 0; otherwise they
# call cls.apply, so a hook sees every op whichever entry its caller used.
apply_hooks = 0


def apply1(cls, x):
    """``cls.apply(x)`` for one Tensor and no attributes, called positionally (the unary
    functions and operators), without cls.apply's *args/**kwargs call."""
    if apply_hooks or (symbolic is not None and isinstance(x, symbolic[0])):
        return cls.apply(x)
    s = x._storage
    device = s.device
    array = s.array  # (outside the try: DTR may recompute it here, and its errors are its own)
    try:
        out = cls.forward(device.xp, array)
    except (ValueError, TypeError, IndexError) as e:
        _reraise(cls, e, (x,), {})
    if recording or cls.n_outputs != 1 or cls.view or type(out) is not _ndarray:
        return _result(cls, out, device, (x,), _NO_ATTRS)
    return _untracked(out, device)


def apply2(cls, a, b):
    """``cls.apply(a, b)`` for two Tensors and no attributes (the binary operators)."""
    if apply_hooks or (symbolic is not None and (isinstance(a, symbolic[0]) or
                                                 isinstance(b, symbolic[0]))):
        return cls.apply(a, b)
    s = a._storage
    device = s.device
    s2 = b._storage
    if s2.device is not device:
        _device_mismatch(cls, (a, b))
    x, y = s.array, s2.array
    try:
        out = cls.forward(device.xp, x, y)
    except (ValueError, TypeError, IndexError) as e:
        _reraise(cls, e, (a, b), {})
    if recording or cls.n_outputs != 1 or cls.view or type(out) is not _ndarray:
        return _result(cls, out, device, (a, b), _NO_ATTRS)
    return _untracked(out, device)


# The attrs of every Node the positional entries record: shared, so read-only.
_NO_ATTRS = types.MappingProxyType({})
_Tensor = Tensor
_Tensor_new = object.__new__  # a bare Tensor: Tensor.__new__ would build a value


def _device_mismatch(cls, inputs):
    raise ValueError(f"{cls.__name__}: inputs live on different devices "
                     f"({', '.join(str(t._storage.device) for t in inputs)}); "
                     "move them with .to(device) first")


def _reraise(cls, e, inputs, attrs):
    """Re-raise a backend error with the op's name, input shapes/dtypes and attributes."""
    arrays = [t._storage.array for t in inputs]
    shapes = ", ".join(f"{tuple(a.shape)}:{a.dtype}" for a in arrays)
    msg = f"{cls.__name__}: {e} (inputs {shapes}; attrs {attrs})"
    try:
        err = type(e)(msg)
    except Exception:
        err = ValueError(msg)
    raise err from None


# Every op class by name; the test table checks each one has a test row.
REGISTRY = {}


# The C entry (csrc/bind/op_apply.cpp) where engine._C has it: Op.apply and the positional
# entries are then one C call each; _apply_py, _result and _reraise remain its fallbacks.
if _C is not None and hasattr(_C, "op_apply"):
    _C.setup_op_apply(globals(), Tensor, Storage, Node, np.ndarray, _apply_py, _result, _reraise,
                      _device_mismatch, allocator.storage_for_view, _NO_ATTRS)
    Op.apply = classmethod(_C.op_apply)
    apply1 = apply2 = _C.op_call
else:
    Op.apply = classmethod(_apply_py)
