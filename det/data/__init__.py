"""det.data: COCO datasets, the generated shapes dataset, transforms, batching and loaders.

    from det.data import build_train_loader, build_test_loader, DataPreprocessor
    loader = build_train_loader(cfg)      # yields the contract's collated batches forever
    batch = next(iter(loader))
    batch = DataPreprocessor()(batch, training=True)   # images normalised on the device

Registered (det.registry): datasets "COCODataset", "ShapesDataset"; transforms
"ResizeShortestEdge", "RandomFlip".
"""
from .coco import COCODataset, contiguous_category_ids, load_coco_json
from .collate import DetCollator, pad_images
from .loader import (
    InfiniteTrainSampler,
    TrainLoader,
    build_dataset,
    build_test_loader,
    build_train_loader,
)
from .preprocessor import DataPreprocessor
from .shapes import ShapesDataset, ensure_shapes_dataset
from .transforms import Compose, RandomFlip, ResizeShortestEdge, build_transforms

__all__ = [
    "COCODataset", "ShapesDataset", "ensure_shapes_dataset", "load_coco_json",
    "contiguous_category_ids", "ResizeShortestEdge", "RandomFlip", "Compose", "build_transforms",
    "DetCollator", "pad_images", "InfiniteTrainSampler", "TrainLoader", "build_dataset",
    "build_train_loader", "build_test_loader", "DataPreprocessor",
]

