"""Every op, declared once with forward and backward side by side (see core.py)."""
from . import core, elemwise, indexing, math, nn, reduce, shape  # noqa: F401
from .core import REGISTRY, Op  # noqa: F401

# isort: split
from . import conv  # noqa: F401  (the conv family; its own line so families merge cleanly)
