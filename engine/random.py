"""mge.random: seedable random tensors.

Numbers are drawn on the host from one numpy Generator (PCG64) and then moved to the target
device, so a seed gives the same values on every device. Every draw records the generator state
it started from, so DTR can evict a random tensor and redraw it bit-identically.

`RNG(seed)` is an independent stream; `RNG()` (no seed) draws from the global stream, as in
MegEngine, so `mge.random.seed(s)` makes it repeatable too.
"""
import numbers

import numpy as np

from .dtr import recompute as _dtr_recompute
from .dtr import state as _dtr_state
from .tensor import Tensor

__all__ = [
    "seed", "RNG", "uniform", "normal", "gamma", "beta", "poisson", "exponential",
    "multinomial", "permutation", "shuffle",
]


def _size(size, fn):
    """MegEngine's `size`: None -> (1,); an int, a sequence of ints or a 1-D integer Tensor."""
    if size is None:
        return (1,)
    if isinstance(size, Tensor):
        if size.ndim > 1 or size.dtype.kind not in "iu":
            raise TypeError(f"random.{fn}: a Tensor size must be a 1-D integer tensor, got "
                            f"shape {size.shape} and dtype {size.dtype}")
        return tuple(int(s) for s in np.atleast_1d(size.numpy()))
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        return (int(size),)
    try:
        if isinstance(size, str):
            raise TypeError
        return tuple(int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"random.{fn}: size must be an int, a tuple of ints or a 1-D integer "
                        f"Tensor, got {size!r}") from None


def _param(value, name, fn, lowest_ok=False):
    """A distribution parameter as a float32 numpy array, checked positive (non-negative when
    lowest_ok); also returns the device of a Tensor parameter (None for a Python number)."""
    if isinstance(value, Tensor):
        array, device = value.numpy().astype(np.float32), value.device
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        array, device = np.float32(value), None
    else:
        raise TypeError(f"random.{fn}: {name} must be a number or a Tensor, got "
                        f"{type(value).__name__}")
    bad = np.any(array < 0) if lowest_ok else np.any(~(array > 0))
    if bad:
        need = "non-negative" if lowest_ok else "positive"
        shown = float(array) if array.ndim == 0 else f"a tensor of shape {array.shape}"
        raise ValueError(f"random.{fn}: {name} must be {need}, got {shown}")
    return array, device


def _param_size(size, fn, *params):
    """MegEngine's output shape for parameterised draws: size + broadcast(params).shape, where
    an int size of 0 counts as None; an empty shape becomes (1,)."""
    try:
        shape = np.broadcast_shapes(*(np.shape(p) for p in params))
    except ValueError:
        shapes = ", ".join(str(np.shape(p)) for p in params)
        raise ValueError(f"random.{fn}: parameter shapes {shapes} do not broadcast") from None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = None if size == 0 else (int(size),)
    prefix = () if size is None else _size(size, fn)
    return (prefix + tuple(shape)) or (1,)


class _Stream:
    """One numpy Generator, shared by every RNG that draws from it."""

    def __init__(self, seed=None):
        if seed is None:  # a fresh seed, kept so that get_global_rng_seed can report it
            seed = int(np.random.SeedSequence().entropy % (2 ** 32))
        self.seed = seed
        self.gen = np.random.Generator(np.random.PCG64(seed))


_global_stream = _Stream()


class RNG:
    r"""A stream of random numbers: `RNG(seed).normal(...)`.

    Args:
        seed: seed of an independent stream. None: draw from the global stream (reseeded by
            :func:`seed`). Default: None
        device: the device of the generated tensors (None: the default device). Default: None

    Examples:
        >>> import engine.random as rand
        >>> rng = rand.RNG(seed=100)
        >>> x = rng.uniform(size=(2, 2))
        >>> x.shape, x.dtype
        ((2, 2), dtype('float32'))
    """

    def __init__(self, seed=None, device=None):
        self._stream = _global_stream if seed is None else _Stream(seed)
        self._device = device

    @property
    def _gen(self):
        return self._stream.gen

    def seed(self, seed):
        """Restart this RNG as an independent stream seeded with `seed` (engine's addition)."""
        self._stream = _Stream(seed)

    def _out(self, array, device, replay=None):
        t = Tensor(array.astype(np.float32), device=device or self._device)
        if replay is not None:  # DTR: the tensor can be evicted and redrawn bit-identically
            _dtr_recompute.make_replayable(t, *replay)
        return t

    def _draw(self, method, *args):
        """self._gen.method(*args), plus what DTR needs to redraw it (None when DTR is off)."""
        state = self._gen.bit_generator.state if _dtr_state.enabled else None
        array = getattr(self._gen, method)(*args)
        return array, None if state is None else (state, method, args)

    def uniform(self, low=0, high=1, size=None, device=None):
        r"""Random variable with uniform distribution :math:`U(low, high)`.

        Args:
            low: lower bound. Default: 0
            high: upper bound. Default: 1
            size: the output shape (an int, a tuple or a 1-D integer Tensor). Default: None,
                which gives shape (1,)
            device: the output device (engine's addition). Default: the RNG's device

        Returns:
            a float32 tensor of shape `size`.

        Examples:
            >>> import engine.random as rand
            >>> rand.uniform(size=(2, 3)).shape
            (2, 3)
        """
        if low > high:
            raise ValueError(f"random.uniform: low ({low}) must not exceed high ({high})")
        array, replay = self._draw("uniform", low, high, _size(size, "uniform"))
        return self._out(array, device, replay)

    def normal(self, mean=0, std=1, size=None, device=None):
        r"""Random variable with Gaussian distribution :math:`N(\mu, \sigma)`.

        Args:
            mean: the mean of the distribution. Default: 0
            std: the standard deviation (non-negative). Default: 1
            size: the output shape (an int, a tuple or a 1-D integer Tensor). Default: None,
                which gives shape (1,)
            device: the output device (engine's addition). Default: the RNG's device

        Returns:
            a float32 tensor of shape `size`.

        Examples:
            >>> import engine.random as rand
            >>> rand.normal(0, 2, size=(4,)).shape
            (4,)
        """
        if std < 0:
            raise ValueError(f"random.normal: std must be non-negative, got {std}")
        array, replay = self._draw("normal", mean, std, _size(size, "normal"))
        return self._out(array, device, replay)

    def _parameterised(self, fn, method, params, size, transform=None):
        shape = _param_size(size, fn, *(p for p, _ in params))
        device = next((d for _, d in params if d is not None), None)
        args = tuple(p if transform is None else transform(p) for p, _ in params)
        array, replay = self._draw(method, *args, shape)
        return self._out(array, device, replay)

    def gamma(self, shape, scale=1, size=None):
        r"""Random variable with Gamma distribution :math:`\Gamma(k, \theta)`,
        density :math:`x^{k-1} e^{-x/\theta} / (\theta^k \Gamma(k))` for x > 0.

        Args:
            shape: the shape parameter k (a positive number or Tensor).
            scale: the scale parameter theta (a positive number or Tensor). Default: 1
            size: extra leading dimensions: the output shape is
                `size + broadcast(shape, scale).shape` ((1,) when that is empty). Default: None

        Returns:
            a float32 tensor (on the parameters' device when they are Tensors).

        Examples:
            >>> import engine as mge
            >>> import engine.random as rand
            >>> rand.gamma(2, 1, size=(2, 2)).shape
            (2, 2)
            >>> rand.gamma(mge.Tensor([1.0, 2.0]), 1, size=3).shape
            (3, 2)
        """
        params = (_param(shape, "shape", "gamma"), _param(scale, "scale", "gamma"))
        return self._parameterised("gamma", "gamma", params, size)

    def beta(self, alpha, beta, size=None):
        r"""Random variable with Beta distribution :math:`B(\alpha, \beta)` on (0, 1).

        Args:
            alpha: a positive number or Tensor.
            beta: a positive number or Tensor.
            size: extra leading dimensions: the output shape is
                `size + broadcast(alpha, beta).shape` ((1,) when that is empty). Default: None

        Returns:
            a float32 tensor.

        Examples:
            >>> import engine.random as rand
            >>> x = rand.beta(2, 1, size=(2, 2))
            >>> x.shape, bool(((x.numpy() > 0) & (x.numpy() < 1)).all())
            ((2, 2), True)
        """
        params = (_param(alpha, "alpha", "beta"), _param(beta, "beta", "beta"))
        return self._parameterised("beta", "beta", params, size)

    def poisson(self, lam, size=None):
        r"""Random variable with Poisson distribution: :math:`P(k) = \lambda^k e^{-\lambda}/k!`.

        Args:
            lam: the rate lambda (a positive number, or a non-negative Tensor).
            size: extra leading dimensions: the output shape is `size + lam.shape`
                ((1,) when that is empty). Default: None

        Returns:
            a float32 tensor of whole numbers (MegEngine's dtype).

        Examples:
            >>> import engine.random as rand
            >>> x = rand.poisson(2.0, size=(1, 3))
            >>> x.shape, x.dtype
            ((1, 3), dtype('float32'))
        """
        if isinstance(lam, Tensor):
            params = (_param(lam, "lam", "poisson", lowest_ok=True),)
        else:
            params = (_param(lam, "lam", "poisson"),)
        return self._parameterised("poisson", "poisson", params, size)

    def exponential(self, rate=1.0, size=None):
        r"""Random variable with exponential distribution, density :math:`\lambda e^{-\lambda x}`.

        Args:
            rate: lambda = 1 / scale (a positive number or Tensor). Default: 1.0
            size: extra leading dimensions: the output shape is `size + rate.shape`
                ((1,) when that is empty). Default: None

        Returns:
            a float32 tensor.

        Examples:
            >>> import engine.random as rand
            >>> rand.exponential(0.5, size=(1, 3)).shape
            (1, 3)
        """
        params = (_param(rate, "rate", "exponential"),)
        return self._parameterised("exponential", "exponential", params, size,
                                   transform=lambda r: np.float64(1.0) / r)

    def multinomial(self, input, num_samples, replacement=False):
        r"""Indices drawn from the rows of `input` with probabilities proportional to its entries.

        Args:
            input: a non-negative (C,) or (N, C) float tensor of weights; rows need a
                non-zero sum.
            num_samples: samples per row (positive; at most C without replacement).
            replacement: draw with replacement. Default: False

        Returns:
            an int32 tensor of shape (num_samples,) or (N, num_samples).

        Examples:
            >>> import engine as mge
            >>> import engine.random as rand
            >>> x = rand.multinomial(mge.Tensor([0.0, 1.0, 0.0]), 2, replacement=True)
            >>> x.numpy()
            array([1, 1], dtype=int32)
        """
        if not isinstance(input, Tensor) or input.ndim not in (1, 2) or input.shape[-1] == 0 \
                or input.dtype.kind != "f":
            raise ValueError(f"random.multinomial: input must be a non-empty 1-D or 2-D float "
                             f"tensor, got {getattr(input, 'shape', type(input).__name__)} "
                             f"{getattr(input, 'dtype', '')}")
        weights = input.numpy().astype(np.float64).reshape(-1, input.shape[-1])
        if not isinstance(num_samples, (int, np.integer)) or num_samples <= 0 or \
                (not replacement and num_samples > weights.shape[1]):
            raise ValueError(f"random.multinomial: num_samples must be positive (and at most "
                             f"{weights.shape[1]} without replacement), got {num_samples!r}")
        sums = weights.sum(1)
        if np.any(weights < 0) or np.any(sums <= 0):
            raise ValueError("random.multinomial: weights must be non-negative with a non-zero "
                             "sum per row")
        rows = [self._gen.choice(weights.shape[1], num_samples, replace=bool(replacement),
                                 p=w / s) for w, s in zip(weights, sums)]
        out = np.stack(rows).astype(np.int32)
        return Tensor(out[0] if input.ndim == 1 else out, device=input.device)

    def permutation(self, n, *, dtype="int32", device=None):
        r"""A random permutation of range(n), or a copy of tensor `n` with its first axis
        shuffled.

        Args:
            n: an int, or a Tensor whose rows are permuted.
            dtype: the output dtype when `n` is an int. Default: "int32"
            device: the output device (engine's addition). Default: the RNG's device

        Returns:
            the permuted tensor.

        Examples:
            >>> import engine.random as rand
            >>> p = rand.permutation(5)
            >>> sorted(p.numpy().tolist()), p.dtype
            ([0, 1, 2, 3, 4], dtype('int32'))
        """
        if isinstance(n, Tensor):
            idx = self._gen.permutation(n.shape[0])
            return n[Tensor(idx, device=n.device)]
        if int(n) < 0:
            raise ValueError(f"random.permutation: n must be non-negative, got {n}")
        return Tensor(self._gen.permutation(int(n)), dtype=dtype, device=device or self._device)

    def shuffle(self, inp):
        r"""Shuffle a tensor in place along its first axis (the rows keep their contents).

        Args:
            inp: a non-empty Tensor.

        Returns:
            None.

        Examples:
            >>> import numpy as np
            >>> import engine as mge
            >>> import engine.random as rand
            >>> x = mge.tensor(np.arange(10))
            >>> rand.shuffle(x)
            >>> sorted(x.numpy().tolist()) == list(range(10))
            True
        """
        if not isinstance(inp, Tensor):
            raise TypeError(f"random.shuffle: expected a Tensor, got {type(inp).__name__}")
        if inp.ndim == 0 or inp.size == 0:
            raise ValueError(f"random.shuffle: expected a non-empty tensor with at least one "
                             f"dimension, got shape {inp.shape}")
        inp._reset(self.permutation(inp))

    @property
    def state(self):
        return self._gen.bit_generator.state

    @state.setter
    def state(self, value):
        self._gen.bit_generator.state = value


_default = RNG()


def seed(seed):
    """Reseed the global stream (that of the module functions and of every `RNG()`).

    Args:
        seed: the seed (an int).

    Returns:
        None.

    Examples:
        >>> import engine.random as rand
        >>> rand.seed(0)
    """
    _global_stream.seed = seed
    _global_stream.gen = np.random.Generator(np.random.PCG64(seed))


def uniform(low=0, high=1, size=None, device=None):
    return _default.uniform(low, high, size, device)


def normal(mean=0, std=1, size=None, device=None):
    return _default.normal(mean, std, size, device)


def gamma(shape, scale=1, size=None):
    return _default.gamma(shape, scale, size)


def beta(alpha, beta, size=None):
    return _default.beta(alpha, beta, size)


def poisson(lam, size=None):
    return _default.poisson(lam, size)


def exponential(rate=1.0, size=None):
    return _default.exponential(rate, size)


def multinomial(input, num_samples, replacement=False):
    return _default.multinomial(input, num_samples, replacement)


def permutation(n, *, dtype="int32", device=None):
    return _default.permutation(n, dtype=dtype, device=device)


def shuffle(inp):
    return _default.shuffle(inp)


for _fn in (uniform, normal, gamma, beta, poisson, exponential, multinomial, permutation,
            shuffle):
    _fn.__doc__ = getattr(RNG, _fn.__name__).__doc__  # the same contract on the global stream
del _fn


def get_rng_state():
    """The state of the default generator (the one :func:`seed` seeds and the module-level
    draws use), to restore later with :func:`set_rng_state`. An engine addition: MegEngine
    has no such function.

    Returns:
        a dict (numpy's bit-generator state); a copy, unaffected by later draws.

    Examples:
        >>> mge.random.seed(3)
        >>> state = mge.random.get_rng_state()
        >>> a = mge.random.uniform(size=(2,)).numpy()
        >>> mge.random.set_rng_state(state)
        >>> b = mge.random.uniform(size=(2,)).numpy()
        >>> bool((a == b).all())
        True
    """
    return _default.state


def set_rng_state(state):
    """Restores the default generator to a state taken by :func:`get_rng_state`, so the draws
    that follow repeat the ones that followed it. An engine addition.

    Args:
        state: a state returned by :func:`get_rng_state`.

    Examples:
        >>> state = mge.random.get_rng_state()
        >>> a = mge.random.normal(size=(3,)).numpy()
        >>> mge.random.set_rng_state(state)
        >>> bool((mge.random.normal(size=(3,)).numpy() == a).all())
        True
    """
    _default.state = state
