"""Datasets (megengine.data.dataset): what the DataLoader reads samples from.

Two styles, as in MegEngine:
  * map-style (`MapDataset`, `ArrayDataset`): random access by index, `dataset[i]` and `len()`;
    a sampler chooses the indices.
  * stream-style (`StreamDataset`): only iteration; the loader reads samples in order.
"""
from abc import ABC, abstractmethod

import numpy as np

__all__ = ["Dataset", "MapDataset", "StreamDataset", "ArrayDataset"]


class Dataset(ABC):
    """Base class of every dataset."""

    @abstractmethod
    def __init__(self):
        pass


class MapDataset(Dataset):
    """A dataset with random access: subclasses define `__getitem__(index)` and `__len__()`."""

    @abstractmethod
    def __getitem__(self, index):
        pass

    @abstractmethod
    def __len__(self):
        pass


class StreamDataset(Dataset):
    """A dataset that can only be iterated: subclasses define `__iter__()` yielding samples."""

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
    """A dataset over arrays that share their first dimension.

    `ArrayDataset(x, y)[i] == (x[i], y[i])`: each item is a tuple with one entry per array.

    Args:
        *arrays: numpy arrays (or engine Tensors, lists) with the same length along axis 0.
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
