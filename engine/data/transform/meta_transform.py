"""Transform base classes (megengine.data.transform.meta_transform)."""
from abc import ABC, abstractmethod

__all__ = ["Transform", "PseudoTransform"]


class Transform(ABC):
    """Base class of the transforms, which rewrite samples.

    The DataLoader calls :meth:`apply_batch` on the list of samples of one batch (before
    collation); by default that calls :meth:`apply`, which a subclass defines, on each
    sample.

    Examples:
        >>> class Scale(mge.data.transform.Transform):
        ...     def apply(self, input):
        ...         image, label = input
        ...         return image * 2, label
        >>> Scale().apply_batch([(np.ones(2), 0), (np.zeros(2), 1)])
        ((array([2., 2.]), 0), (array([0., 0.]), 1))
    """

    def apply_batch(self, inputs):
        """Transforms the samples of one batch.

        Args:
            inputs: the list of samples.

        Returns:
            a tuple of the transformed samples.

        Examples:
            >>> mge.data.transform.PseudoTransform().apply_batch([1, 2])
            (1, 2)
        """
        return tuple(self.apply(sample) for sample in inputs)

    @abstractmethod
    def apply(self, input):
        """Transforms one sample (a subclass defines it).

        Args:
            input: the sample.

        Returns:
            the transformed sample.
        """
        pass

    def __repr__(self):
        return type(self).__name__


class PseudoTransform(Transform):
    """The identity transform (the DataLoader's default).

    Examples:
        >>> mge.data.transform.PseudoTransform().apply((np.ones(2), 1))
        (array([1., 1.]), 1)
    """

    def apply(self, input):
        return input
