"""engine.utils.hook: the handle returned when a hook is registered (MegEngine's HookHandler).

It is the class engine.module's register_forward_hook / register_forward_pre_hook return.
"""
from ..module.module import HookHandler  # noqa: F401  (one class for both paths)

__all__ = ["HookHandler"]
