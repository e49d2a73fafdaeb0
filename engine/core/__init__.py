"""engine.core: the MegEngine internals that user code imports by path (megengine.core.*).

Only the names real code reaches are here: core.tensor.dtype (quantized dtype helpers),
core.tensor.utils.make_shape_tuple and core._trace_option.
"""
from . import _trace_option, tensor  # noqa: F401
