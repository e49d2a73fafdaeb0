"""MegEngine's megbrain_graph entry points that user code and tests reach for, over engine's
graph files: engine has no MegBrain computing graph (a traced call is a Program of engine ops,
engine/jit/), so `load_graph` reads a file written by trace.dump into the read-only VarNode /
OpNode view of engine.utils.comp_graph_tools."""
from ...utils.comp_graph_tools import LoadedGraph, OpNode, VarNode, load_graph

CompGraphLoadResult = LoadedGraph

__all__ = ["load_graph", "CompGraphLoadResult", "VarNode", "OpNode"]
