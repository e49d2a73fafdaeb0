"""Distribution: the base class (batch shape, and the sample shape convention)."""


class Distribution:
    r"""A family of probability distributions, one per entry of ``batch_shape``.

    ``sample(sample_shape)`` returns a tensor of shape ``sample_shape + batch_shape``.
    """

    def __init__(self, batch_shape=()):
        self._batch_shape = tuple(batch_shape)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} has no mean")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    @property
    def stddev(self):
        return self.variance ** 0.5

    def sample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} cannot be sampled")

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self._batch_shape})"
