"""Every op, declared once with forward and backward side by side (see core.py)."""
from . import (  # noqa: F401
    conv,
    core,
    correlation,
    ctc,
    cvt_color,
    deformable_psroi,
    elemwise,
    indexing,
    interpolate,
    loss,
    math,
    nn,
    norm,
    pooling,
    reduce,
    shape,
    softmax,
    vision,
    warp,
)
from .core import REGISTRY, Op  # noqa: F401
