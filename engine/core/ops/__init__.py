"""engine.core.ops: MegEngine's op descriptors (``core.ops.builtin``), run by
``engine.core._imperative_rt.core2.apply``."""
from . import builtin  # noqa: F401
