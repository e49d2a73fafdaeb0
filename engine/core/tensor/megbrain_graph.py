"""MegEngine's megbrain_graph entry points that user code and tests reach for, over engine's
graph files: engine has no MegBrain computing graph (a traced call is a Program of engine ops,
engine/jit/), so `load_graph` reads a file written by trace.dump into the read-only VarNode /
OpNode view of engine.utils.comp_graph_tools."""
from ...utils.comp_graph_tools import LoadedGraph, load_graph
from ...utils.network_node import OpNode, VarNode

CompGraphLoadResult = LoadedGraph


class _Compiled:
    def execute(self):
        return self

    def wait(self):
        return self


class _Graph:
    """What OutputNode's `graph.compile(outputs).execute()` needs: a loaded graph's values are
    already there (engine runs graphs through GraphInference, not a compiled MegBrain graph)."""

    def compile(self, outputs):
        return _Compiled()


class OutputNode:
    """MegEngine's OutputNode(var).get_value(), for the values a loaded graph holds: its
    constants (ImmutableTensor vars). A computed var's value needs the graph run on inputs
    (GraphInference); asking for it raises RuntimeError, as MegEngine does for a value it
    cannot read."""

    def __init__(self, var):
        self.var = var
        self.outputs = [var]
        self.graph = _Graph()

    def get_value(self):
        from ...tensor import Tensor

        if getattr(self.var, "value", None) is None:
            raise RuntimeError(f"OutputNode: {self.var!r} is computed by the graph; run it with "
                               "engine.utils.comp_graph_tools.GraphInference to read it")
        return Tensor(self.var.value)


__all__ = ["load_graph", "CompGraphLoadResult", "VarNode", "OpNode", "OutputNode"]
