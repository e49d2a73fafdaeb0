"""engine.data.transform (megengine.data.transform): per-sample transforms on HWC numpy images.

    import engine.data.transform as T
    T.Compose([T.Resize((32, 32)), T.RandomHorizontalFlip(), T.Normalize(mean, std),
               T.ToMode("CHW")], order=("image", "image_category"))
"""
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
from .functional import INTER_AREA, INTER_CUBIC, INTER_LINEAR, INTER_NEAREST
from .geometry import RandomCrop, RandomResize, RandomResizedCrop, ShortestEdgeResize
from .meta_transform import PseudoTransform, Transform
from .vision import (
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

__all__ = [
    "Transform", "PseudoTransform", "VisionTransform", "Compose", "ToMode", "Normalize",
    "Resize", "RandomHorizontalFlip", "RandomVerticalFlip", "Pad", "CenterCrop",
    "INTER_NEAREST", "INTER_LINEAR", "INTER_CUBIC", "INTER_AREA",
    "RandomCrop", "RandomResize", "RandomResizedCrop", "ShortestEdgeResize",
    "BrightnessTransform", "ContrastTransform", "SaturationTransform", "HueTransform",
    "ColorJitter", "Lighting", "GaussianNoise", "TorchTransformCompose",
]
