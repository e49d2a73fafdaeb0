"""Transform base classes (megengine.data.transform.meta_transform)."""
from abc import ABC, abstractmethod

__all__ = ["Transform", "PseudoTransform"]


class Transform(ABC):
    """Rewrites samples. The DataLoader calls `apply_batch(samples)` on the list of samples of one
    batch (before collation); by default that applies `apply` to each sample."""

    def apply_batch(self, inputs):
        return tuple(self.apply(sample) for sample in inputs)

    @abstractmethod
    def apply(self, input):
        pass

    def __repr__(self):
        return type(self).__name__


class PseudoTransform(Transform):
    """The identity transform (the DataLoader's default)."""

    def apply(self, input):
        return input
