"""engine.amp: automatic mixed precision (MegEngine's megengine.amp).

`autocast` runs convolutions and matrix products in float16 (float32 accumulation) and keeps
precision-sensitive ops in float32; `GradScaler` scales the loss so that float16 gradients do not
underflow and skips steps whose gradients overflow; `convert_module_format` /
`convert_tensor_format` are MegEngine's NHWC switch (a tag only in engine, which is NCHW).

The module attributes `enabled`, `low_prec_dtype` and `high_prec_dtype` read and set the state
that autocast manages (`engine.amp.enabled = True` turns autocast on until set back).
"""
import sys
import types

from . import _state
from .autocast import autocast
from .convert_format import convert_module_format, convert_tensor_format
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "convert_module_format", "convert_tensor_format",
           "enabled", "high_prec_dtype", "low_prec_dtype"]


class _AmpModule(types.ModuleType):
    """The module object with MegEngine's three properties (MegEngine uses mprop for this)."""

    @property
    def enabled(self):
        """Get or set amp autocast mode enabled or not."""
        return _state.enabled

    @enabled.setter
    def enabled(self, flag):
        _state.set_enabled(flag)

    @property
    def high_prec_dtype(self):
        """Get or set amp autocast mode's higher precision dtype (default float32)."""
        return str(_state.high_prec_dtype)

    @high_prec_dtype.setter
    def high_prec_dtype(self, dtype):
        _state.set_dtype("high", dtype)

    @property
    def low_prec_dtype(self):
        """Get or set amp autocast mode's lower precision dtype (default float16)."""
        return str(_state.low_prec_dtype)

    @low_prec_dtype.setter
    def low_prec_dtype(self, dtype):
        _state.set_dtype("low", dtype)


sys.modules[__name__].__class__ = _AmpModule
