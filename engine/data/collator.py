"""Collator (megengine.data.collator): merges the transformed samples of a batch into arrays.

The default merge follows MegEngine: numpy arrays are stacked along a new axis 0, Python and numpy
scalars become 1-D arrays, strings stay lists, and containers are merged field by field, so a
batch of (image, label) tuples becomes a tuple (images, labels) of stacked arrays.
"""
import collections.abc

import numpy as np

__all__ = ["Collator"]


def _describe(value):
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} of shape {tuple(shape)}" if shape is not None else \
        type(value).__name__


class Collator:
    """Merges a list of samples into one batch (MegEngine's default merge).

    numpy arrays of one shape are stacked along a new axis 0, Python and numpy scalars
    become 1-D arrays, strings stay lists, and tuples, lists, namedtuples and dicts are merged
    field by field, so a batch of (image, label) tuples becomes a tuple (images, labels).
    Subclass and override :meth:`apply` for another merge (e.g. padding images of different
    sizes).

    Examples:
        >>> samples = [(np.zeros((2, 2), "float32"), 1), (np.ones((2, 2), "float32"), 0)]
        >>> images, labels = mge.data.Collator().apply(samples)
        >>> images.shape, labels
        ((2, 2, 2), array([1, 0]))
        >>> mge.data.Collator().apply([{"id": 3, "name": "a"}, {"id": 4, "name": "b"}])
        {'id': array([3, 4]), 'name': ['a', 'b']}
    """

    def apply(self, inputs):
        """Merges the samples of one batch.

        Args:
            inputs: the list of (transformed) samples.

        Returns:
            the batch: a numpy array, a list of strings, or a tuple / list / dict of them.

        Examples:
            >>> mge.data.Collator().apply([np.array([1, 2]), np.array([3, 4])])
            array([[1, 2],
                   [3, 4]])
        """
        return _collate(list(inputs), "batch")


def _collate(samples, where):
    if not samples:
        raise ValueError("Collator: cannot collate an empty batch")
    first = samples[0]
    if hasattr(first, "numpy") and callable(first.numpy) and not isinstance(first, np.ndarray):
        samples = [s.numpy() if hasattr(s, "numpy") else np.asarray(s) for s in samples]
        first = samples[0]
    if isinstance(first, np.ndarray):
        if first.dtype.kind in "OUS":
            raise TypeError(f"Collator: cannot stack numpy arrays of dtype {first.dtype} "
                            f"({where}); only numeric and bool arrays are stacked")
        for i, s in enumerate(samples):
            if not isinstance(s, np.ndarray) or s.shape != first.shape:
                raise ValueError(
                    f"Collator: cannot stack the samples of {where}: sample 0 is "
                    f"{_describe(first)}, sample {i} is {_describe(s)}; samples must share one "
                    "shape (pass a collator that pads them)")
        return np.ascontiguousarray(np.stack(samples))
    if isinstance(first, np.generic) and not isinstance(first, (np.str_, np.bytes_)):
        return np.array(samples)
    if isinstance(first, bool):
        return np.array(samples, dtype=np.bool_)
    if isinstance(first, float):
        return np.array(samples, dtype=np.float64)
    if isinstance(first, int):
        return np.array(samples)
    if isinstance(first, (str, bytes, np.str_, np.bytes_)):
        return samples
    if isinstance(first, collections.abc.Mapping):
        return {key: _collate([s[key] for s in samples], f"{where}[{key!r}]") for key in first}
    if isinstance(first, collections.abc.Sequence):
        lengths = {len(s) for s in samples}
        if len(lengths) > 1:
            raise ValueError(f"Collator: every sample of {where} must have the same number of "
                             f"fields, got lengths {sorted(lengths)}")
        fields = [_collate(list(column), f"{where}[{i}]")
                  for i, column in enumerate(zip(*samples))]
        if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
            return type(first)(*fields)
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(f"Collator: cannot collate samples of type {type(first).__name__} ({where}); "
                    "expected numpy arrays, numbers, strings, or tuples/lists/dicts of them")
