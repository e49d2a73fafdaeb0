"""Exponential(rate): density rate * exp(-rate * x) for x >= 0."""
from numbers import Number

import engine.functional as F

from ..random import exponential
from ..tensor import Tensor
from .distribution import Distribution


class Exponential(Distribution):
    r"""The exponential distribution with ``rate`` (= 1 / scale), drawn by
    engine.random.exponential.

    Args:
        rate: a float (batch shape ()) or a tensor / array of positive rates.

    Examples:
        >>> from engine.distributions import Exponential
        >>> m = Exponential(2.0)
        >>> m.sample((3,)).shape, float(m.mean), float(m.variance)
        ((3,), 0.5, 0.25)
    """

    def __init__(self, rate):
        self.rate = Tensor(rate)
        super().__init__(() if isinstance(rate, Number) else self.rate.shape)

    @property
    def mean(self):
        return 1.0 / self.rate

    @property
    def stddev(self):
        return 1.0 / self.rate

    @property
    def variance(self):
        return F.pow(self.rate, -2)

    def sample(self, sample_shape=()):
        """Samples of shape ``sample_shape + batch_shape``."""
        sample_shape = tuple(sample_shape)
        if not self.batch_shape and not sample_shape:
            return exponential(self.rate, (1,)).reshape(())
        return exponential(self.rate, sample_shape if sample_shape else None).reshape(
            sample_shape + self.batch_shape)

    def log_prob(self, value):
        return F.log(self.rate) - self.rate * value

    def cdf(self, value):
        return 1.0 - F.exp(-self.rate * value)

    def icdf(self, value):
        return -F.log1p(-value) / self.rate
