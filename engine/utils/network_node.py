"""MegEngine's network_node names over engine's graph view: VarNode and OpNode are the vars
and operators of a graph file read by engine.utils.comp_graph_tools.load_graph (engine has no
MegBrain graph to edit; MegEngine's Network surgery API, engine.utils.network, is not built)."""
from .comp_graph_tools import OpNode, VarNode

__all__ = ["VarNode", "OpNode"]
