"""The statements of a TracedModule's graph. Each expr reads input nodes and makes output
nodes; `interpret(env)` evaluates it given {node: value} for its inputs.

    Input          an argument of the traced forward
    GetAttr        module.name (a submodule, a parameter or a buffer of the traced module)
    Constant       a value captured while tracing (a Tensor from outside the modules)
    CallMethod     target.method(*args): a module call ("__call__") or a Tensor method
    CallFunction   a function of engine.functional (or one wrapped with traced_module.wrap)
    Apply          an engine op applied directly (Op.apply), outside any recorded call

Arguments are kept as a tree (tuples, lists, dicts) whose Tensors are nodes.
"""
from ..tensor import Tensor
from .node import ModuleNode, TensorNode


def _map_tree(tree, is_leaf, fn):
    if is_leaf(tree):
        return fn(tree)
    if isinstance(tree, tuple):
        return tuple(_map_tree(x, is_leaf, fn) for x in tree)
    if isinstance(tree, list):
        return [_map_tree(x, is_leaf, fn) for x in tree]
    if isinstance(tree, dict):
        return {k: _map_tree(v, is_leaf, fn) for k, v in tree.items()}
    return tree


def flatten_args(tree, leaf):
    """tree with every Tensor t replaced by leaf(t)."""
    return _map_tree(tree, lambda x: isinstance(x, Tensor), leaf)


def map_nodes(tree, fn):
    """tree with every node n replaced by fn(n)."""
    return _map_tree(tree, lambda x: isinstance(x, (TensorNode, ModuleNode)), fn)


def nodes_in(tree):
    out = []
    map_nodes(tree, out.append)
    return out


class Expr:
    _next_id = 0

    def __init__(self, args=(), kwargs=None):
        self._id = Expr._next_id
        Expr._next_id += 1
        self.args, self.kwargs = args, kwargs or {}
        self.outputs = []
        self.out_tree = None
        for n in self.inputs:
            n.users.append(self)

    @property
    def id(self):
        return self._id

    @property
    def inputs(self):
        return nodes_in((self.args, self.kwargs))

    def add_outputs(self, tree):
        """The call's result tree with its Tensors as new nodes made by this expr."""
        def node(t):
            n = TensorNode(self, name=t.name or None, shape=tuple(t.shape), dtype=t.dtype)
            self.outputs.append(n)
            return n
        self.out_tree = flatten_args(tree, node)
        return self.out_tree

    def _args(self, env):
        get = env.__getitem__
        return map_nodes(self.args, get), map_nodes(self.kwargs, get)

    def bind(self, env, result):
        """Stores result's Tensors under this expr's output nodes."""
        flat = []
        flatten_args(result, flat.append)
        for n, v in zip(self.outputs, flat):
            env[n] = v
        return result

    def __repr__(self):
        outs = ", ".join(repr(n) for n in self.outputs)
        return f"{outs} = {self._describe()}" if outs else self._describe()


class Input(Expr):
    def __init__(self, name, node_cls=TensorNode, **node_kwargs):
        super().__init__()
        self.name = name
        node = node_cls(self, name=name, **node_kwargs)
        self.outputs.append(node)

    def _describe(self):
        return f"Input({self.name})"


class GetAttr(Expr):
    def __init__(self, module_node, name, value):
        super().__init__((module_node,))
        self.name = name
        if isinstance(value, Tensor):
            out = TensorNode(self, name=name.replace(".", "_"), shape=tuple(value.shape),
                             dtype=value.dtype)
        else:
            out = ModuleNode(self, name=name.replace(".", "_"), module_type=type(value))
        out._value = value
        self.outputs.append(out)

    def interpret(self, env):
        from .traced_module import resolve

        obj = env[self.outputs[0]] = resolve(env[self.args[0]], self.name)
        return obj

    def _describe(self):
        return f"getattr({self.args[0]!r}, {self.name!r})"


class Constant(Expr):
    def __init__(self, value, name="const"):
        super().__init__()
        self.value = value
        out = TensorNode(self, name=name, shape=tuple(value.shape), dtype=value.dtype)
        out._value = value
        self.outputs.append(out)

    def interpret(self, env):
        env[self.outputs[0]] = self.value
        return self.value

    def _describe(self):
        return f"Constant({tuple(self.value.shape)}:{self.value.dtype})"


class CallMethod(Expr):
    """target.method(*args); returns_self: an in-place method (x += y, x[i] = v) whose output
    is the updated target."""

    def __init__(self, target, method, args=(), kwargs=None, returns_self=False):
        super().__init__((target,) + tuple(args), kwargs)
        self.method, self.returns_self = method, returns_self

    def interpret(self, env):
        (target, *args), kwargs = self._args(env)
        out = getattr(target, self.method)(*args, **kwargs)
        return self.bind(env, target if self.returns_self else out)

    def _describe(self):
        target, *args = self.args
        return f"{target!r}.{self.method}({_call_args(args, self.kwargs)})"


# While a trace runs, a function called by an interpreted graph (re-tracing a TracedModule:
# flatten) is recorded as the same CallFunction: the tracer puts its recorder here.
function_hook = []


class CallFunction(Expr):
    def __init__(self, func, args=(), kwargs=None):
        super().__init__(tuple(args), kwargs)
        self.func = func

    def interpret(self, env):
        args, kwargs = self._args(env)
        fn = function_hook[-1](self.func) if function_hook else self.func
        return self.bind(env, fn(*args, **kwargs))

    def _describe(self):
        mod = getattr(self.func, "__module__", "") or ""
        return f"{mod}.{getattr(self.func, '__qualname__', self.func)}(" \
               f"{_call_args(self.args, self.kwargs)})"


class Apply(Expr):
    def __init__(self, op, args=(), attrs=None):
        super().__init__(tuple(args), attrs)
        self.op = op

    def interpret(self, env):
        args, attrs = self._args(env)
        return self.bind(env, self.op.apply(*args, **attrs))

    def _describe(self):
        return f"{self.op.__name__}.apply({_call_args(self.args, self.kwargs)})"


def _call_args(args, kwargs):
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return ", ".join(parts)
