"""mge.random: seedable random tensors.

Numbers are drawn on the host from one numpy Generator (PCG64) and then moved to the target
device, so a seed gives the same values on every device.
"""
import numpy as np

from . import _dtr
from . import device as _dev
from .tensor import Tensor

__all__ = ["seed", "normal", "uniform", "permutation", "RNG"]


def _size(size, fn):
    if size is None:
        return ()
    if isinstance(size, (int, np.integer)):
        return (int(size),)
    try:
        if isinstance(size, str):
            raise TypeError
        return tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"random.{fn}: size must be an int or a tuple of ints, got {size!r}") \
            from None


class RNG:
    """An independent random stream: RNG(seed).normal(...)."""

    def __init__(self, seed=None, device=None):
        self._gen = np.random.Generator(np.random.PCG64(seed))
        self._device = device

    def seed(self, seed):
        self._gen = np.random.Generator(np.random.PCG64(seed))

    def _out(self, array, device, replay=None):
        t = Tensor(array.astype(np.float32), device=device or self._device)
        if replay is not None:  # DTR: the tensor can be evicted and redrawn bit-identically
            _dtr.make_replayable(t, *replay)
        return t

    def _draw(self, method, *args):
        """self._gen.method(*args), plus what DTR needs to redraw it (None when DTR is off)."""
        state = self._gen.bit_generator.state if _dtr._enabled else None
        array = getattr(self._gen, method)(*args)
        return array, None if state is None else (state, method, args)

    def uniform(self, low=0, high=1, size=None, device=None):
        array, replay = self._draw("uniform", low, high, _size(size, "uniform"))
        return self._out(array, device, replay)

    def normal(self, mean=0, std=1, size=None, device=None):
        if std < 0:
            raise ValueError(f"random.normal: std must be non-negative, got {std}")
        array, replay = self._draw("normal", mean, std, _size(size, "normal"))
        return self._out(array, device, replay)

    def permutation(self, n, *, dtype="int32", device=None):
        """A random permutation of range(n), or of a tensor's first axis."""
        if isinstance(n, Tensor):
            idx = self._gen.permutation(n.shape[0])
            return n[Tensor(idx, device=n.device)]
        if int(n) < 0:
            raise ValueError(f"random.permutation: n must be non-negative, got {n}")
        return Tensor(self._gen.permutation(int(n)), dtype=dtype, device=device or self._device)

    @property
    def state(self):
        return self._gen.bit_generator.state

    @state.setter
    def state(self, value):
        self._gen.bit_generator.state = value


_default = RNG()


def seed(seed):
    """Reseed the global stream (mge.random.seed)."""
    _default.seed(seed)


def uniform(low=0, high=1, size=None, device=None):
    return _default.uniform(low, high, size, device)


def normal(mean=0, std=1, size=None, device=None):
    return _default.normal(mean, std, size, device)


def permutation(n, *, dtype="int32", device=None):
    return _default.permutation(n, dtype=dtype, device=device)


def get_rng_state():
    return _default.state


def set_rng_state(state):
    _default.state = state


del _dev
