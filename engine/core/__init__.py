"""engine.core: the MegEngine internals that user code and MegEngine's tests import by path
(megengine.core.*).

core.tensor.dtype (quantized and low-bit dtype helpers), core.tensor.utils (make_shape_tuple,
astensor1d, isscalar, subgraph_fn), core._trace_option, core.autodiff.grad (Grad, Function),
core.ops.builtin (op descriptors) with core._imperative_rt.core2.apply to run them, and the
interpreter options set_option / get_option.
"""
from . import _imperative_rt, _trace_option, autodiff, ops, tensor  # noqa: F401  # noqa: F401,E402
from ._options import get_option, set_option  # noqa: F401
