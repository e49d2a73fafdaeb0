"""engine.utils.hook: the handle returned when a forward (pre-)hook is registered (MegEngine's
path; the class lives with Module)."""
from engine.module.module import HookHandler

__all__ = ["HookHandler"]
