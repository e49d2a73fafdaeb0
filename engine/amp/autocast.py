"""autocast: MegEngine's mixed-precision switch, as a context manager and a decorator."""
import functools

from . import _state


class autocast:
    r"""A class to control autocast mode for amp as a context manager or a decorator.

    While it is active, convolutions and matrix products (conv1d/2d/3d, conv_transpose2d,
    matmul, linear) run on ``low_prec_dtype`` inputs and accumulate in float32; numerically
    sensitive ops (true division, exp, log, pow, sqrt, trigonometric and hyperbolic functions,
    layer and group norm) run on ``high_prec_dtype`` inputs; batch norm normalises a
    low-precision input with high-precision parameters; every other op follows the dtypes of
    its inputs. The lists are MegEngine's (see ``engine/amp/_state.py``). Gradients keep the
    dtype of the tensors they belong to: a float32 parameter gets a float32 gradient.

    As in MegEngine, ``enabled=False`` makes the context a no-op: it neither turns autocast on
    nor turns an enclosing autocast off. Contexts nest; leaving one restores the state (and the
    dtypes) that was there when it was entered.

    Args:
        enabled: whether autocast mode is enabled.
        low_prec_dtype: set amp autocast mode's lower precision dtype. It will change
            the target dtype in tensor casting for better speed and memory. Default: float16.
        high_prec_dtype: set amp autocast mode's higher precision dtype. It will
            change the target dtype in tensor casting for better precision. Default: float32.

    Returns:
        None

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.functional as F
        >>> from engine import amp
        >>> a = mge.tensor(np.ones((2, 3), "float32"))
        >>> with amp.autocast():
        ...     print(F.matmul(a, a.T).dtype, F.exp(a.astype("float16")).dtype)
        float16 float32
        >>> @amp.autocast()
        ... def project(x):
        ...     return F.matmul(x, x.T)
        >>> print(project(a).dtype, F.matmul(a, a.T).dtype)
        float16 float32
    """

    def __init__(self, enabled: bool = True, low_prec_dtype: str = "float16",
                 high_prec_dtype: str = "float32"):
        self.enabled = enabled
        self.high_prec_dtype = high_prec_dtype
        self.low_prec_dtype = low_prec_dtype
        self._saved = []  # one (enabled, low, high) per active `with`: contexts may re-enter

    def __enter__(self):
        if self.enabled:
            self._saved.append((_state.enabled, _state.low_prec_dtype, _state.high_prec_dtype))
            _state.set_dtype("high", self.high_prec_dtype)
            _state.set_dtype("low", self.low_prec_dtype)
            _state.set_enabled(True)
        return self

    def __exit__(self, *exc):
        if self.enabled:
            was_enabled, low, high = self._saved.pop()
            _state.low_prec_dtype, _state.high_prec_dtype = low, high
            _state.set_enabled(was_enabled)

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return wrapper
