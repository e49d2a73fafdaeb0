"""engine.core._config: MegEngine's home of the execution config. engine keeps it in
engine.config (module-level properties), so this name is that module."""
import sys

from .. import config

sys.modules[__name__] = config
