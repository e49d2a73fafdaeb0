"""Dataset base classes (megengine.data.dataset.meta_dataset): what the DataLoader reads.

Two styles, as in MegEngine:
  * map-style (`MapDataset`, `ArrayDataset`): random access by index, `dataset[i]` and `len()`;
    a sampler chooses the indices.
  * stream-style (`StreamDataset`): only iteration; the loader reads samples in order.
"""
import bisect
from abc import ABC, abstractmethod

import numpy as np

__all__ = ["Dataset", "MapDataset", "StreamDataset", "ArrayDataset", "ConcatDataset"]


class Dataset(ABC):
    """Base class of every dataset (use :class:`MapDataset` or :class:`StreamDataset`).

    Examples:
        >>> issubclass(mge.data.dataset.ArrayDataset, mge.data.dataset.Dataset)
        True
    """

    @abstractmethod
    def __init__(self):
        pass


class MapDataset(Dataset):
    """A dataset with random access: a subclass defines ``__getitem__(index)`` and
    ``__len__()``; a sampler chooses the indices.

    Examples:
        >>> class Squares(mge.data.dataset.MapDataset):
        ...     def __init__(self, n):
        ...         super().__init__()
        ...         self.n = n
        ...     def __getitem__(self, index):
        ...         return np.float32(index * index)
        ...     def __len__(self):
        ...         return self.n
        >>> ds = Squares(4)
        >>> len(ds), float(ds[3])
        (4, 9.0)
        >>> loader = mge.data.DataLoader(ds, mge.data.SequentialSampler(ds, batch_size=2))
        >>> [batch.tolist() for batch in loader]
        [[0.0, 1.0], [4.0, 9.0]]
    """

    @abstractmethod
    def __getitem__(self, index):
        pass

    @abstractmethod
    def __len__(self):
        pass


class StreamDataset(Dataset):
    """A dataset that can only be iterated: a subclass defines ``__iter__()``, which
    yields samples; the loader reads them in order (with a :class:`~.StreamSampler`).

    Indexing and ``len()`` raise TypeError.

    Examples:
        >>> class Counter(mge.data.dataset.StreamDataset):
        ...     def __init__(self):
        ...         super().__init__()
        ...     def __iter__(self):
        ...         i = 0
        ...         while True:
        ...             yield (np.int32(i),)
        ...             i += 1
        >>> loader = mge.data.DataLoader(Counter(), mge.data.StreamSampler(batch_size=3))
        >>> it = iter(loader)
        >>> next(it)[0], next(it)[0]
        (array([0, 1, 2], dtype=int32), array([3, 4, 5], dtype=int32))
    """

    @abstractmethod
    def __iter__(self):
        pass

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is a StreamDataset: it can be iterated but not "
                        "indexed")

    def __len__(self):
        raise TypeError(f"{type(self).__name__} is a StreamDataset: it has no len()")


def _as_indexable(array, position):
    # engine Tensors become numpy arrays so that samples are plain host data (what the collator
    # stacks); anything else with __len__ and __getitem__ (lists, numpy arrays) is used as is.
    if hasattr(array, "numpy") and callable(array.numpy) and not isinstance(array, np.ndarray):
        return array.numpy()
    if not (hasattr(array, "__len__") and hasattr(array, "__getitem__")):
        raise TypeError(f"ArrayDataset: argument {position} must be an array or sequence, got "
                        f"{type(array).__name__}")
    return array


class ArrayDataset(MapDataset):
    """A dataset over arrays that share their first dimension: item i is the tuple
    of the i-th entries, ``ArrayDataset(x, y)[i] == (x[i], y[i])``.

    Args:
        *arrays: numpy arrays (or engine Tensors, which become numpy arrays, or lists) with
            the same length along axis 0.

    Examples:
        >>> x = np.arange(6, dtype=np.float32).reshape(3, 2)
        >>> y = np.array([0, 1, 0], dtype=np.int32)
        >>> ds = mge.data.dataset.ArrayDataset(x, y)
        >>> len(ds)
        3
        >>> image, label = ds[1]
        >>> image, int(label)
        (array([2., 3.], dtype=float32), 1)
    """

    def __init__(self, *arrays):
        super().__init__()
        if not arrays:
            raise ValueError("ArrayDataset: expected at least one array")
        arrays = tuple(_as_indexable(a, i) for i, a in enumerate(arrays))
        lengths = [len(a) for a in arrays]
        if any(n != lengths[0] for n in lengths):
            shapes = [getattr(a, "shape", (len(a),)) for a in arrays]
            raise ValueError(f"ArrayDataset: arrays must have the same length along axis 0, got "
                             f"lengths {lengths} (shapes {shapes})")
        self.arrays = arrays

    def __getitem__(self, index):
        return tuple(array[index] for array in self.arrays)

    def __len__(self):
        return len(self.arrays[0])


class ConcatDataset(MapDataset):
    """Map-style datasets one after another: indices 0..len(a)-1 read `a`, the next ones `b`...

    Args:
        datasets: a non-empty sequence of map-style datasets (StreamDatasets are refused).

    Returns:
        a dataset of length sum(len(d) for d in datasets).

    Examples:
        >>> import numpy as np
        >>> from engine.data.dataset import ArrayDataset, ConcatDataset
        >>> both = ConcatDataset([ArrayDataset(np.arange(2)), ArrayDataset(np.arange(10, 13))])
        >>> len(both), both[2], both[-1]
        (5, (np.int64(10),), (np.int64(12),))
    """

    def __init__(self, datasets):
        super().__init__()
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, StreamDataset) or not (hasattr(d, "__getitem__")
                                                    and hasattr(d, "__len__")):
                raise TypeError(f"ConcatDataset: datasets[{i}] must be a map-style dataset "
                                f"(StreamDataset is not supported), got {type(d).__name__}")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: absolute value of index {idx} should not "
                                 f"exceed dataset length {n}")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]

    def __len__(self):
        return self.cumulative_sizes[-1]
