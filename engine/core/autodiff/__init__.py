"""engine.core.autodiff: MegEngine's ``core.autodiff.grad`` path."""
from . import grad  # noqa: F401
