"""engine.data (megengine.data): datasets, samplers, transforms and the DataLoader.

    from engine.data import DataLoader, RandomSampler, ArrayDataset
    import engine.data.transform as T
"""
from . import dataset, transform
from ._worker import get_worker_info
from .collator import Collator
from .dataloader import DataLoader
from .dataset import ArrayDataset, ConcatDataset, Dataset, MapDataset, StreamDataset
from .sampler import (
    Infinite,
    InfiniteSampler,
    MapSampler,
    RandomSampler,
    ReplacementSampler,
    Sampler,
    SequentialSampler,
    StreamSampler,
)

__all__ = [
    "DataLoader", "Collator", "Dataset", "MapDataset", "StreamDataset", "ArrayDataset",
    "Sampler", "MapSampler", "StreamSampler", "SequentialSampler", "RandomSampler",
    "ReplacementSampler", "Infinite", "InfiniteSampler", "get_worker_info", "transform",
    "dataset", "ConcatDataset",
]
