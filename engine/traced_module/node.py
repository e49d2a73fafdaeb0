"""The values of a TracedModule's graph: TensorNode (a Tensor the forward computes or reads)
and ModuleNode (a module the forward calls). Each node knows the expr that makes it
(`expr`) and the exprs that read it (`users`)."""


class Node:
    _next_id = 0

    def __init__(self, expr=None, name=None):
        self._id = Node._next_id
        Node._next_id += 1
        self.expr = expr
        self.users = []
        self._name = name

    @property
    def name(self):
        return self._name or f"node_{self._id}"

    @name.setter
    def name(self, value):
        self._name = value

    @property
    def id(self):
        return self._id

    @property
    def value(self):
        """What this node held when traced, for Constant and GetAttr nodes (a Tensor, a
        module); None for computed values."""
        return getattr(self, "_value", None)

    def __repr__(self):
        return f"%{self._id}_{self.name}"


class TensorNode(Node):
    """A Tensor of the graph, with the shape and dtype it had when traced."""

    def __init__(self, expr=None, name=None, shape=None, dtype=None, qparams=None):
        super().__init__(expr, name)
        self.shape, self.dtype, self.qparams = shape, dtype, qparams


class ModuleNode(Node):
    """A module of the graph: the traced module itself (`self`) or one of its attributes."""

    def __init__(self, expr=None, name=None, module_type=None, owner=None):
        super().__init__(expr, name)
        self.module_type, self.owner = module_type, owner
