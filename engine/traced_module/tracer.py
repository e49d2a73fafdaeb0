"""trace_module: runs a Module's forward once and records it as TracedModules.

What is recorded, at the level of the module being traced:
- a call of a leaf module (engine's own layers, M.Conv2d ...; classes given to
  register_as_builtin) as CallMethod(module node, "__call__");
- a call of any other module (the user's, M.Sequential) as a TracedModule of its own, traced
  the same way (flatten() inlines them);
- a call of an engine.functional function, or of one wrapped with `wrap`, as CallFunction;
- a Tensor method or operator (x + 1, x.reshape(...), x[...], x += y) as CallMethod;
- Tensor(...) built from traced Tensors as CallFunction(Tensor);
- any engine op applied otherwise (a function imported before tracing, `from engine.functional
  import relu`) as Apply, so nothing the forward computes is missed.
A Tensor read from outside becomes GetAttr (a parameter or buffer of the traced modules) or
Constant (anything else). Everything runs once, eagerly; calls inside a recorded call are
that call's business and are not recorded.
"""
import inspect
import sys

import numpy as np

from ..module import Module, Sequential
from ..ops import core
from ..tensor import Tensor
from . import expr as _expr
from .expr import Apply, CallFunction, CallMethod, Constant, GetAttr, Input, flatten_args
from .traced_module import InternalGraph, TracedModule

_BUILTIN = set()        # module classes recorded as calls (register_as_builtin)
_checker = {"on": True}

_TENSOR_METHODS = [
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__pow__", "__rpow__",
    "__neg__", "__abs__", "__matmul__", "__rmatmul__", "__getitem__", "__lt__", "__le__",
    "__gt__", "__ge__", "__eq__", "__ne__", "__and__", "__or__", "__invert__", "reshape",
    "transpose", "flatten", "sum", "mean", "max", "min", "prod", "astype", "_broadcast",
    "broadcast", "argmax", "argmin", "detach",
]
_TENSOR_INPLACE = ["__iadd__", "__isub__", "__imul__", "__itruediv__", "__setitem__"]


def register_as_builtin(mod_cls):
    """Record calls of mod_cls's instances as calls (do not trace into them)."""
    _BUILTIN.add(mod_cls)
    return mod_cls


_active = []  # the tracer running now


def wrap(func):
    """func, recorded as one CallFunction when a traced forward calls it (not traced into)."""
    def wrapped(*args, **kwargs):
        if not _active:
            return func(*args, **kwargs)
        return _active[-1]._function(func)(*args, **kwargs)

    wrapped.__wrapped__ = func
    wrapped.__name__ = getattr(func, "__name__", "wrapped")
    return wrapped


def enable_expr_checker():
    """Check each trace: the graph, run on the traced inputs, must give the eager outputs."""
    _checker["on"] = True


def disable_default_checker():
    """Skip that check (it runs the forward a second time)."""
    _checker["on"] = False


def _is_leaf(module):
    cls = type(module)
    if cls in _BUILTIN:
        return True
    if isinstance(module, (TracedModule, Sequential)):
        return False
    mod = cls.__module__
    return mod == "engine.module" or mod.startswith("engine.module.")


class _Frame:
    """One graph being recorded: its module, nodes of the Tensors seen, paths of the module's
    parameters, buffers and sub-modules."""

    def __init__(self, graph, module):
        self.graph, self.module = graph, module
        self.node_of = {}   # id(Tensor) -> (Tensor, node)
        self.paths = {}     # id(Tensor or Module) -> dotted attribute path from `module`
        for name, p in module.named_parameters():
            self.paths.setdefault(id(p), name)
        for name, b in module.named_buffers():
            self.paths.setdefault(id(b), name)
        for name, m in module.named_modules():
            if name:
                self.paths.setdefault(id(m), name)
        self.attr_nodes = {}  # path -> its GetAttr node

    def node(self, t):
        entry = self.node_of.get(id(t))
        if entry is not None and entry[0] is t:
            return entry[1]
        path = self.paths.get(id(t))
        if path is not None:
            n = self._attr(path, t)
        else:
            n = self.graph.add(Constant(t)).outputs[0]
        self.node_of[id(t)] = (t, n)
        return n

    def _attr(self, path, value):
        n = self.attr_nodes.get(path)
        if n is None:
            n = self.attr_nodes[path] = self.graph.add(
                GetAttr(self.graph.self_node, path, value)).outputs[0]
        return n

    def module_node(self, m):
        path = self.paths.get(id(m))
        return None if path is None else self._attr(path, m)

    def knows(self, tree):
        found = []
        flatten_args(tree, lambda t: found.append(id(t) in self.node_of))
        return any(found)

    def outputs(self, expr, result):
        expr.add_outputs(result)
        flat_t = []
        flatten_args(result, flat_t.append)
        for t, n in zip(flat_t, expr.outputs):
            self.node_of[id(t)] = (t, n)


class _Tracer:
    def __init__(self, inline):
        self.inline = inline
        self.plain_call = Module.__call__
        self.frames = []
        self.depth = 0          # > 0 inside a recorded call
        self.children = {}      # id(module) -> its TracedModule
        self._saved = []

    @property
    def frame(self):
        return self.frames[-1]

    # ------------------------------------------------------------------ recording
    def record(self, make_expr, call):
        """Runs call() unrecorded inside, then records make_expr(...) with its result."""
        self.depth += 1
        try:
            result = call()
        finally:
            self.depth -= 1
        expr = self.frame.graph.add(make_expr())
        self.frame.outputs(expr, result)
        return result

    def nodes(self, tree):
        return flatten_args(tree, self.frame.node)

    # ------------------------------------------------------------------ modules
    def trace_graph(self, module, args, kwargs, name):
        """Records module's forward on (args, kwargs) as a new InternalGraph."""
        sig = (module.graph.signature if isinstance(module, TracedModule)
               else inspect.signature(module.forward))
        bound = sig.bind(*args, **kwargs)
        graph = InternalGraph(name, sig)
        frame = _Frame(graph, module)
        for pname, value in bound.arguments.items():
            def input_node(t, pname=pname):
                n = Input(pname).outputs[0]
                n.shape, n.dtype = tuple(t.shape), t.dtype
                frame.node_of[id(t)] = (t, n)
                return n
            graph.arg_trees[pname] = flatten_args(value, input_node)
        self.frames.append(frame)
        try:
            out = self.plain_call(module, *args, **kwargs)
        finally:
            self.frames.pop()
        graph.outputs_tree = flatten_args(out, frame.node)
        return graph, out

    def call_module(self, module, args, kwargs):
        if _is_leaf(module):
            target = self.frame.module_node(module)
            if target is None:  # a module from outside the traced ones: trace through it
                return self.plain_call(module, *args, **kwargs)
            a, k = self.nodes(args), self.nodes(kwargs)
            return self.record(lambda: CallMethod(target, "__call__", a, k),
                               lambda: self.plain_call(module, *args, **kwargs))
        if self.inline or self.frame.module_node(module) is None:
            return self.plain_call(module, *args, **kwargs)
        target = self.frame.module_node(module)
        a, k = self.nodes(args), self.nodes(kwargs)
        graph, out = self.trace_graph(module, args, kwargs, type(module).__name__)
        child = self.children.get(id(module))
        if child is None:
            child = self.children[id(module)] = _traced(module, graph, self.children)
        target._value = child
        target.module_type = TracedModule
        expr = self.frame.graph.add(CallMethod(target, "__call__", a, k))
        self.frame.outputs(expr, out)
        return out

    # ------------------------------------------------------------------ patching
    def install(self):
        tracer = self
        plain_call = Module.__call__

        def traced_call(module, *args, **kwargs):
            if tracer.depth or not tracer.frames:
                return plain_call(module, *args, **kwargs)
            return tracer.call_module(module, args, kwargs)

        self._patch(Module, "__call__", traced_call)

        for modname in [m for m in sys.modules if m == "engine.functional"
                        or m.startswith("engine.functional.")]:
            mod = sys.modules[modname]
            for name, fn in list(vars(mod).items()):
                owner = getattr(fn, "__module__", None)
                if (inspect.isfunction(fn) and not name.startswith("_")
                        and isinstance(owner, str) and owner.startswith("engine.functional")):
                    self._patch(mod, name, self._function(fn))
        for name in _TENSOR_METHODS + _TENSOR_INPLACE:
            if name in vars(Tensor):
                self._patch(Tensor, name, self._method(vars(Tensor)[name], name,
                                                       name in _TENSOR_INPLACE))
        plain_new = vars(Tensor)["__new__"]

        def traced_new(cls, data=None, *args, **kwargs):
            if tracer.depth or not tracer.frames or not tracer.frame.knows(data):
                return plain_new(cls, data, *args, **kwargs)
            d, a, k = tracer.nodes(data), tracer.nodes(args), tracer.nodes(kwargs)
            return tracer.record(lambda: CallFunction(Tensor, (d,) + a, k),
                                 lambda: plain_new(cls, data, *args, **kwargs))

        self._patch(Tensor, "__new__", traced_new)
        inner_apply = core.Op.__dict__["apply"].__func__

        def traced_apply(cls, *inputs, **attrs):
            if tracer.depth or not tracer.frames:
                return inner_apply(cls, *inputs, **attrs)
            ins = tracer.nodes(inputs)
            return tracer.record(lambda: Apply(cls, ins, dict(attrs)),
                                 lambda: inner_apply(cls, *inputs, **attrs))

        self._patch(core.Op, "apply", classmethod(traced_apply))
        core.apply_hooks += 1

    def _function(self, fn):
        tracer = self

        def traced(*args, **kwargs):
            if tracer.depth or not tracer.frames:
                return fn(*args, **kwargs)
            a, k = tracer.nodes(args), tracer.nodes(kwargs)
            return tracer.record(lambda: CallFunction(fn, a, k), lambda: fn(*args, **kwargs))

        traced.__wrapped__ = fn
        return traced

    def _method(self, plain, name, inplace):
        tracer = self

        def traced(t, *args, **kwargs):
            if tracer.depth or not tracer.frames:
                return plain(t, *args, **kwargs)
            target = tracer.frame.node(t)
            a, k = tracer.nodes(args), tracer.nodes(kwargs)
            if inplace:  # the Tensor itself holds the result: record it as the output
                def run():
                    plain(t, *args, **kwargs)
                    return t
                tracer.record(lambda: CallMethod(target, name, a, k, returns_self=True), run)
                return t if name != "__setitem__" else None
            return tracer.record(lambda: CallMethod(target, name, a, k),
                                 lambda: plain(t, *args, **kwargs))

        return traced

    def _patch(self, owner, name, value):
        self._saved.append((owner, name, owner.__dict__[name] if isinstance(owner, type)
                            else getattr(owner, name)))
        setattr(owner, name, value)

    def uninstall(self):
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)
        self._saved = []
        core.apply_hooks -= 1


def _traced(module, graph, children):
    """The TracedModule of module: its attributes, traced children swapped in."""
    attrs = {}
    for name, value in vars(module).items():
        if name.startswith("_") or name in ("training", "name"):
            continue
        attrs[name] = _swap(value, children)
    tm = TracedModule(graph, attrs, type(module))
    tm.training = module.training
    return tm


def _swap(value, children):
    if isinstance(value, Module):
        return children.get(id(value), value)
    if isinstance(value, list):
        return [_swap(v, children) for v in value]
    if isinstance(value, tuple):
        return tuple(_swap(v, children) for v in value)
    if isinstance(value, dict):
        return type(value)((k, _swap(v, children)) for k, v in value.items())
    return value


def _trace(module, args, kwargs, inline=False, check=None):
    tracer = _Tracer(inline)
    tracer.install()
    _active.append(tracer)
    _expr.function_hook.append(tracer._function)
    try:
        graph, out = tracer.trace_graph(module, args, kwargs, type(module).__name__)
    finally:
        _expr.function_hook.pop()
        _active.pop()
        tracer.uninstall()
    if isinstance(module, TracedModule):
        root_attrs = {n: v for n, v in vars(module).items()
                      if not n.startswith("_") and n not in ("training", "name")}
        tm = TracedModule(graph, {k: _swap(v, tracer.children) for k, v in root_attrs.items()},
                          module._original_type)
    else:
        tm = _traced(module, graph, tracer.children)
    if _checker["on"] if check is None else check:
        _check(tm, args, kwargs, out)
    return tm


def _check(tm, args, kwargs, want):
    got = tm(*args, **kwargs)
    flat_g, flat_w = [], []
    flatten_args(got, flat_g.append)
    flatten_args(want, flat_w.append)
    if len(flat_g) != len(flat_w) or not all(
            np.array_equal(g.numpy(), w.numpy(), equal_nan=True) for g, w in
            zip(flat_g, flat_w)):
        raise RuntimeError(f"trace_module({tm.graph.name}): the recorded graph does not give "
                           "the module's own outputs on the traced inputs")


def trace_module(mod, *args, **kwargs):
    """Traces mod's forward on (args, kwargs) into a TracedModule (see the module docstring).

    Examples:
        >>> from engine.traced_module import trace_module
        >>> net = M.Sequential(M.Linear(3, 2), M.ReLU())
        >>> tm = trace_module(net, mge.tensor(np.ones((1, 3), "float32")))
        >>> [e.method for e in tm.graph.get_method_by_type("__call__")]
        ['__call__', '__call__']
    """
    if not isinstance(mod, Module):
        raise TypeError(f"trace_module: expected a Module, got {type(mod).__name__}")
    return _trace(mod, args, kwargs)


__all__ = ["trace_module", "register_as_builtin", "wrap", "enable_expr_checker",
           "disable_default_checker"]
