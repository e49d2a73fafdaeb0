"""engine.jit: MegEngine's trace (engine/jit/tracing.py) and its option objects.

    watch.py    what a traced call applies, draws and updates, recorded or checked
    program.py  a recording as a static program over arrays, and its replay
    tracing.py  trace, is_tracing
    configs.py  SublinearMemoryConfig, DTRConfig, GraphOptimizationConfig
    dump.py     trace.dump: a captured program to a graph file (graph_file.py), after the
                inference passes (passes.py)
    loaded.py   load: a graph file as a callable GraphModel
    partial_trace.py  partial_trace: one traced part of an eager program
"""
from .configs import DTRConfig, GraphOptimizationConfig, SublinearMemoryConfig
from .dump import DumpInfo
from .graph_file import GraphFileError
from .loaded import GraphModel, load
from .partial_trace import partial_trace
from .tracing import is_tracing, trace
from .watch import TraceError, exclude_from_trace

__all__ = ["trace", "exclude_from_trace", "is_tracing", "TraceError", "DTRConfig",
           "GraphOptimizationConfig", "SublinearMemoryConfig", "load", "GraphModel",
           "GraphFileError", "DumpInfo", "partial_trace"]
