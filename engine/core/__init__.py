"""engine.core: the MegEngine internals that user code and MegEngine's tests import by path
(megengine.core.*).

core.tensor.dtype (quantized and low-bit dtype helpers), core.tensor.utils (make_shape_tuple,
astensor1d, isscalar, subgraph_fn), core._trace_option, core.autodiff.grad (Grad, Function),
core.ops.builtin (op descriptors) with core._imperative_rt.core2.apply to run them, and the
interpreter options set_option / get_option.
"""
from . import _trace_option, tensor  # noqa: F401
from ._options import get_option, set_option  # noqa: F401

# The op descriptors and their runtime (and core.autodiff's Grad) load on first use: engine's
# own modules import core._trace_option, which must not bring them into `import engine`.
_LAZY = ("_imperative_rt", "ops", "autodiff")


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
