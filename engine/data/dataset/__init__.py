"""Datasets (megengine.data.dataset): what the DataLoader reads samples from.

Two styles, as in MegEngine:
  * map-style (`MapDataset`, `ArrayDataset`, `ConcatDataset`, the vision datasets): random
    access by index, `dataset[i]` and `len()`; a sampler chooses the indices.
  * stream-style (`StreamDataset`): only iteration; the loader reads samples in order.
"""
from .meta_dataset import ArrayDataset, ConcatDataset, Dataset, MapDataset, StreamDataset
from .vision import (
    CIFAR10,
    CIFAR100,
    COCO,
    MNIST,
    Cityscapes,
    ImageFolder,
    ImageNet,
    Objects365,
    PascalVOC,
    VisionDataset,
)

__all__ = [
    "Dataset", "MapDataset", "StreamDataset", "ArrayDataset", "ConcatDataset", "VisionDataset",
    "ImageFolder", "ImageNet", "CIFAR10", "CIFAR100", "MNIST", "COCO", "Objects365",
    "PascalVOC", "Cityscapes",
]
