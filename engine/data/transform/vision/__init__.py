"""Vision transforms (megengine.data.transform.vision): the transform classes and MegEngine's
image functions (`from engine.data.transform.vision import functional as F`)."""
from . import functional, transform
from .transform import *  # noqa: F401,F403
from .transform import __all__ as _transforms

__all__ = list(_transforms) + ["functional", "transform"]
