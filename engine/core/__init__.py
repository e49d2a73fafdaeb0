"""engine.core: the MegEngine internals that user code imports by path (megengine.core.*).

Only the names real code reaches are here: core.tensor.dtype (quantized dtype helpers),
core.tensor.utils (make_shape_tuple, astensor1d, isscalar), core._trace_option
and core.autodiff.grad.Function.
"""
from . import _trace_option, tensor  # noqa: F401
