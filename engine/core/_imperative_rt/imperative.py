"""engine.core._imperative_rt.imperative: the runtime-level helpers engine has.

MegEngine's ``make_backward_graph`` returns a MegBrain backward graph; engine differentiates on
its tape (engine.autodiff) and builds no such graph, so it is not offered here.
"""
from .core2 import sync

__all__ = ["sync"]
