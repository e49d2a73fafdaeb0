"""engine.functional (F): the user-facing functions, with MegEngine's names and arguments."""
from . import elemwise, loss, math, nn, tensor  # noqa: F401
from . import vision as vision  # noqa: F401
from .elemwise import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .tensor import *  # noqa: F401,F403
from . import debug_param  # noqa: F401
