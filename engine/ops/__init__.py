"""Every op, declared once with forward and backward side by side (see core.py)."""
from . import core, elemwise, indexing, math, nn, reduce, shape  # noqa: F401
from . import interpolate as interpolate  # noqa: F401
from . import loss as loss  # noqa: F401
from . import softmax as softmax  # noqa: F401
from . import vision as vision  # noqa: F401
from .core import REGISTRY, Op  # noqa: F401
