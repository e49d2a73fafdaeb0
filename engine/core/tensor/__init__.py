"""engine.core.tensor: dtype helpers and shape utilities under MegEngine's import paths."""
from . import dtype, utils  # noqa: F401
