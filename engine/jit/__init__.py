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
from .partial_trace import partial_trace
from .tracing import is_tracing, trace
from .watch import TraceError, exclude_from_trace

# The deployment half (dump's DumpInfo, the graph file, load) loads on first use: it brings
# json, zipfile and tempfile, which `import engine` does not need.
_LAZY = {"DumpInfo": ".dump", "GraphFileError": ".graph_file", "GraphModel": ".loaded",
         "load": ".loaded"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["trace", "exclude_from_trace", "is_tracing", "TraceError", "DTRConfig",
           "GraphOptimizationConfig", "SublinearMemoryConfig", "load", "GraphModel",
           "GraphFileError", "DumpInfo", "partial_trace"]
