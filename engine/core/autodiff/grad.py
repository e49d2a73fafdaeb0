"""engine.core.autodiff.grad: where MegEngine code imports ``Function`` from; it is
:class:`engine.autodiff.Function` (custom forward/backward ops)."""
from ...autodiff import Function

__all__ = ["Function"]
