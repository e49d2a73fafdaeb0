"""RNG descriptors (GaussianRNG, UniformRNG, GammaRNG, BetaRNG, PoissonRNG, ExponentialRNG,
MultinomialRNG, PermutationRNG) and MegEngine's RNG handles, drawn by engine.random.

``handle=0`` draws from engine's global stream (``engine.random.seed`` reseeds it); a handle
from :func:`new_rng_handle` is an independent stream seeded with its seed, on its device. The
``seed`` attribute is kept for equality (MegEngine uses it in static graphs); the stream of the
handle decides the values.
"""
import itertools

import numpy as np

from ._base import OpDef

_handles = {}  # handle -> engine.random.RNG
_next_handle = itertools.count(1)


def new_rng_handle(device, seed):
    """A new independent RNG stream on `device` (a CompNode or device name): its handle."""
    from .... import random

    h = next(_next_handle)
    _handles[h] = random.RNG(seed=int(seed), device=str(device) if device is not None else None)
    return h


def delete_rng_handle(handle):
    """Frees a handle made by :func:`new_rng_handle`."""
    if _handles.pop(handle, None) is None:
        raise ValueError(f"delete_rng_handle: no RNG handle {handle}")


def get_global_rng_seed():
    """The seed of engine's global RNG stream (the last engine.random.seed, or the seed it
    was started with)."""
    from .... import random

    return random._global_stream.seed


def set_global_rng_seed(seed):
    """Reseeds engine's global RNG stream (engine.random.seed)."""
    from .... import random

    random.seed(int(seed))


class _RNGOp(OpDef):
    def _rng(self):
        from .... import random

        h = getattr(self, "handle", 0)
        if h == 0:
            return random.RNG()
        rng = _handles.get(h)
        if rng is None:
            raise ValueError(f"{type(self).__name__}: RNG handle {h} does not exist (deleted?)")
        return rng

    def _device(self, like):
        h = getattr(self, "handle", 0)
        return _handles[h]._device if h in _handles and _handles[h]._device else like.device


def _size(shape_tensor):
    return tuple(int(v) for v in shape_tensor.numpy().ravel())


class GaussianRNG(_RNGOp):
    """Normal(mean, std) samples of the shape given as input."""

    _attrs = ("seed", "mean", "std", "dtype", "handle")
    _defaults = (0, 0.0, 1.0, "float32", 0)

    def _run(self, shape):
        out = self._rng().normal(self.mean, self.std, _size(shape), device=self._device(shape))
        return (out.astype(self.dtype),)


class UniformRNG(_RNGOp):
    """Uniform [0, 1) samples of the shape given as input."""

    _attrs = ("seed", "dtype", "handle")
    _defaults = (0, "float32", 0)

    def _run(self, shape):
        out = self._rng().uniform(0, 1, _size(shape), device=self._device(shape))
        return (out.astype(self.dtype),)


def _on(t, device):
    return t if device is None or str(t.device) == str(device) else t.to(device)


class GammaRNG(_RNGOp):
    """Gamma(shape, scale) samples, one per element of the (broadcast) inputs."""

    _attrs = ("seed", "handle")
    _defaults = (0, 0)

    def _run(self, shape, scale):
        return (_on(self._rng().gamma(shape, scale), self._device(shape)),)


class BetaRNG(_RNGOp):
    """Beta(alpha, beta) samples, one per element."""

    _attrs = ("seed", "handle")
    _defaults = (0, 0)

    def _run(self, alpha, beta):
        return (_on(self._rng().beta(alpha, beta), self._device(alpha)),)


class PoissonRNG(_RNGOp):
    """Poisson(lam) samples, one per element."""

    _attrs = ("seed", "handle")
    _defaults = (0, 0)

    def _run(self, lam):
        return (_on(self._rng().poisson(lam), self._device(lam)),)


class ExponentialRNG(_RNGOp):
    """Exponential(rate) samples, one per element."""

    _attrs = ("seed", "handle")
    _defaults = (0, 0)

    def _run(self, rate):
        return (_on(self._rng().exponential(rate), self._device(rate)),)


class MultinomialRNG(_RNGOp):
    """`num_samples` category indices per row of `probs` (int32)."""

    _attrs = ("seed", "num_samples", "replacement", "handle")
    _defaults = (0, 1, False, 0)

    def _run(self, probs):
        out = self._rng().multinomial(probs, self.num_samples, self.replacement)
        return (_on(out, self._device(probs)),)


class PermutationRNG(_RNGOp):
    """A random permutation of range(n); the input is the shape (n,) as a tensor."""

    _attrs = ("seed", "dtype", "handle")
    _defaults = (0, "int32", 0)

    def _run(self, like):
        n = int(np.prod(_size(like)))
        out = self._rng().permutation(n, dtype=self.dtype, device=self._device(like))
        return (out,)
