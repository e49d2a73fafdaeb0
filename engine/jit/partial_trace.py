"""MegEngine's partial_trace: trace one part of an eager program (a Module's forward, a helper
function) rather than a whole step.

    class Net(M.Module):
        @partial_trace
        def forward(self, x): ...

MegEngine compiles the part's forward and its backward into two graphs joined by a custom
autodiff Function. engine's replay builds no autograd nodes, so the part runs two ways: while
a GradManager records (its backward is needed), the function runs eagerly and its ops are
checked against the recording, as trace's default mode does; otherwise (inference, or the part
called on gradients after backward) the recorded program replays without the function's
Python (trace's without_host=True). Results are the eager ones either way.
"""
import functools

from ..ops import core
from .tracing import trace

__all__ = ["partial_trace"]


def partial_trace(func=None, *, backend="default", without_host=True, trace_gmcallback=True,
                  **trace_options):
    """Decorator (with or without options) tracing one part of an eager program.

    Args:
        backend: "default" (engine's trace). MegEngine's "xla" backend is not built.
        without_host: must be True, as in MegEngine.
        trace_gmcallback: MegEngine traces GradManager callbacks into the backward graph;
            engine runs them eagerly (accepted, no effect).
        trace_options: trace's other options (symbolic, capture_as_const, ...).
    """
    if backend != "default":
        raise ValueError(f"partial_trace: backend must be 'default' (engine has no {backend!r} "
                         "backend)")
    if not without_host:
        raise ValueError("partial_trace only support without_host mode currently!")

    def wrap(fn):
        replay = trace(fn, without_host=True, **trace_options)
        checked = trace(fn, **trace_options)

        @functools.wraps(fn)
        def run(*args, **kwargs):
            if core.recording:
                return checked(*args, **kwargs)
            return replay(*args, **kwargs)

        run.__wrapped_traces__ = (replay, checked)
        return run

    return wrap if func is None else wrap(func)
