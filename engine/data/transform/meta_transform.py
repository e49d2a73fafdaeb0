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


class CudaTransform(Transform):
    """A transform of whole collated batches, run in the main process after collation
    (MegEngine's hook for preprocessing on the device). The DataLoader does not call it per
    sample; it calls :meth:`apply` on each collated batch. The base class returns the batch
    unchanged; a subclass overrides :meth:`apply` (e.g. to turn the arrays into Tensors on a
    GPU and normalise them there).

    Examples:
        >>> import numpy as np
        >>> from engine.data import ArrayDataset, DataLoader, SequentialSampler
        >>> from engine.data.transform import CudaTransform
        >>> class Double(CudaTransform):
        ...     def apply(self, batch):
        ...         return tuple(b * 2 for b in batch)
        >>> ds = ArrayDataset(np.arange(4.0))
        >>> loader = DataLoader(ds, SequentialSampler(ds, batch_size=2), transform=Double())
        >>> next(iter(loader))[0]
        array([0., 2.])
    """

    def apply(self, input):
        return input
