"""TracedModule: a Module whose forward is a recorded graph (InternalGraph) of exprs over
nodes, MegEngine's Module-level IR: inspect it (`tm.graph`, `graph.exprs()`,
`get_module_by_type`, ...), run it (`tm(x)`), or inline every traced child into one graph
(`tm.flatten()`)."""
import inspect

import numpy as np

from ..module import Module
from .expr import CallFunction, CallMethod, Input, map_nodes, nodes_in
from .node import ModuleNode, TensorNode


def resolve(obj, path):
    """obj.a.b for path "a.b", list / dict items by index or key ("layers.0")."""
    for part in path.split(".") if path else ():
        if isinstance(obj, (list, tuple)) and part.isdigit():
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            obj = getattr(obj, part)
    return obj


class Exprs(list):
    """A list of exprs or nodes with MegEngine's accessors."""

    def as_list(self):
        return list(self)

    def as_unique(self):
        if len(self) != 1:
            raise ValueError(f"expected exactly one match, got {len(self)}")
        return self[0]

    def as_dict(self):
        return {x.id: x for x in self}


class InternalGraph:
    """The forward of a TracedModule: Input exprs (`self` first, then the arguments), the exprs
    in execution order, and the returned tree of nodes."""

    def __init__(self, name, signature):
        self.name = name
        self.signature = signature  # the traced forward's, without self
        self._exprs = []
        self.self_node = Input("self", ModuleNode).outputs[0]
        self.arg_trees = {}         # argument name -> its tree with Tensors as input nodes
        self.outputs_tree = None

    # ------------------------------------------------------------------ building
    def add(self, expr):
        self._exprs.append(expr)
        return expr

    # ------------------------------------------------------------------ reading
    @property
    def inputs(self):
        return [self.self_node] + nodes_in(list(self.arg_trees.values()))

    @property
    def outputs(self):
        return nodes_in(self.outputs_tree)

    def exprs(self, recursive=True):
        """Every expr, in execution order; recursive: those of traced children too."""
        out = Exprs()
        for e in self._exprs:
            out.append(e)
            if recursive and isinstance(e, CallMethod) and isinstance(e.args[0], ModuleNode):
                child = e.args[0].value
                if isinstance(child, TracedModule):
                    out.extend(child.graph.exprs(recursive=True))
        return out

    def nodes(self, recursive=True):
        seen, out = set(), Exprs()
        for n in self.inputs:
            seen.add(n.id)
            out.append(n)
        for e in self.exprs(recursive):
            for n in e.outputs:
                if n.id not in seen:
                    seen.add(n.id)
                    out.append(n)
        return out

    def get_function_by_type(self, func=None, recursive=True):
        return Exprs(e for e in self.exprs(recursive)
                     if isinstance(e, CallFunction) and (func is None or e.func is func))

    def get_method_by_type(self, method=None, recursive=True):
        return Exprs(e for e in self.exprs(recursive)
                     if isinstance(e, CallMethod) and (method is None or e.method == method))

    def get_module_by_type(self, module_cls, recursive=True):
        return Exprs(n for n in self.nodes(recursive)
                     if isinstance(n, ModuleNode) and n.module_type is not None
                     and issubclass(n.module_type, module_cls))

    def get_node_by_name(self, name, recursive=True):
        return Exprs(n for n in self.nodes(recursive) if n.name == name)

    def get_expr_by_id(self, expr_id, recursive=True):
        return Exprs(e for e in self.exprs(recursive) if e.id == expr_id)

    def get_node_by_id(self, node_id, recursive=True):
        return Exprs(n for n in self.nodes(recursive) if n.id == node_id)

    # ------------------------------------------------------------------ running
    def interpret(self, module, *args, **kwargs):
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        env = {self.self_node: module}
        for name, tree in self.arg_trees.items():
            _bind_tree(env, tree, bound.arguments[name], name)
        for e in self._exprs:
            e.interpret(env)
        return map_nodes(self.outputs_tree, env.__getitem__)

    def __repr__(self):
        args = ", ".join(self.arg_trees)
        lines = [f"{self.name}.Graph (self, {args}) {{"]
        lines += [f"\t{e!r}" for e in self._exprs]
        lines.append(f"\treturn {self.outputs_tree!r}")
        lines.append("}")
        return "\n".join(lines)


def _bind_tree(env, tree, value, name):
    if isinstance(tree, TensorNode):
        env[tree] = value
    elif isinstance(tree, (tuple, list)):
        if not isinstance(value, (tuple, list)) or len(value) != len(tree):
            raise TypeError(f"TracedModule: argument {name!r} was traced as a sequence of "
                            f"{len(tree)}, got {type(value).__name__}")
        for t, v in zip(tree, value):
            _bind_tree(env, t, v, name)
    elif isinstance(tree, dict):
        for k, t in tree.items():
            _bind_tree(env, t, value[k], name)


class TracedModule(Module):
    """A Module whose forward runs its recorded graph. Its attributes are the traced module's
    (the same parameter, buffer and leaf-module objects; traced children as TracedModules)."""

    def __init__(self, graph, attributes, original_type=None):
        super().__init__()
        for name, value in attributes.items():
            setattr(self, name, value)
        self._graph = graph
        self._original_type = original_type

    @property
    def graph(self):
        return self._graph

    @property
    def argspec(self):
        return inspect.getfullargspec(self.forward)

    def forward(self, *args, **kwargs):
        return self._graph.interpret(self, *args, **kwargs)

    def flatten(self):
        """A TracedModule with one graph: every traced child's exprs inlined (their attributes
        read by dotted paths from the root), leaf modules and functions kept as calls."""
        from .tracer import _trace

        examples = {}
        for name, tree in self._graph.arg_trees.items():
            examples[name] = map_nodes(tree, _zeros_like_node)
        return _trace(self, (), examples, inline=True, check=False)

    def __repr__(self):
        return f"TracedModule({self._graph.name})\n{self._graph!r}"


def _zeros_like_node(n):
    from ..tensor import Tensor

    return Tensor(np.zeros(n.shape, n.dtype))
