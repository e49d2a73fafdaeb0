"""engine.autodiff: GradManager (the tape) and Function (custom gradients), at MegEngine's paths
(engine.autodiff.grad_manager.GradManager as well)."""
from .function import Function
from .grad_manager import GradManager

__all__ = ["Function", "GradManager"]
