"""megengine.data.transform.vision.transform: every vision transform, by MegEngine's module path
(defined in _base.py, geometry.py and color.py)."""
from ._base import (
    CenterCrop,
    Compose,
    Normalize,
    Pad,
    RandomHorizontalFlip,
    RandomVerticalFlip,
    Resize,
    ToMode,
    VisionTransform,
)
from .color import (
    BrightnessTransform,
    ColorJitter,
    ContrastTransform,
    GaussianNoise,
    HueTransform,
    Lighting,
    SaturationTransform,
    TorchTransformCompose,
)
from .geometry import RandomCrop, RandomResize, RandomResizedCrop, ShortestEdgeResize

__all__ = [
    "VisionTransform", "Compose", "ToMode", "Normalize", "Resize", "RandomHorizontalFlip",
    "RandomVerticalFlip", "Pad", "CenterCrop", "RandomCrop", "RandomResize",
    "RandomResizedCrop", "ShortestEdgeResize", "BrightnessTransform", "ContrastTransform",
    "SaturationTransform", "HueTransform", "ColorJitter", "Lighting", "GaussianNoise",
    "TorchTransformCompose",
]
