"""Every op, declared once with forward and backward side by side (see core.py)."""
from . import core, elemwise, indexing, math, nn, norm, pooling, reduce, shape  # noqa: F401
from .core import REGISTRY, Op  # noqa: F401
