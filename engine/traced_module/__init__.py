"""engine.traced_module: MegEngine's Module-level graph IR (trace_module -> TracedModule).

    expr.py           the statements (Input, GetAttr, Constant, CallMethod, CallFunction, Apply)
    node.py           the values (TensorNode, ModuleNode)
    traced_module.py  InternalGraph and TracedModule (inspect, run, flatten)
    tracer.py         trace_module and what it records
"""
from .traced_module import InternalGraph, TracedModule
from .tracer import (
    disable_default_checker,
    enable_expr_checker,
    register_as_builtin,
    trace_module,
    wrap,
)

__all__ = ["trace_module", "TracedModule", "InternalGraph", "register_as_builtin", "wrap",
           "enable_expr_checker", "disable_default_checker"]
