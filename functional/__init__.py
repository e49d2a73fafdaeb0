"""engine.functional (F): the user-facing functions, with MegEngine's names and arguments."""
from . import (  # noqa: F401
    debug_param,  # noqa: F401
    elemwise,
    loss,
    math,
    nn,
    tensor,
)
from . import metric as metric  # noqa: F401
from . import utils as utils  # noqa: F401
from . import vision as vision  # noqa: F401
from .activation import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .complex import *  # noqa: F401,F403
from .elemwise import *  # noqa: F401,F403
from .layout import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .lookup import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .metric import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .norm import general_norm, instance_norm, local_response_norm, sync_batch_norm  # noqa: F401
from .tensor import *  # noqa: F401,F403

# isort: split
# F.distributed: the collectives (engine.distributed.functional), imported last because
# engine.distributed builds on the rest of engine
from . import distributed as distributed  # noqa: E402,F401
