"""engine.data.transform (megengine.data.transform): per-sample transforms on HWC numpy images.

    import engine.data.transform as T
    T.Compose([T.Resize((32, 32)), T.RandomHorizontalFlip(), T.Normalize(mean, std),
               T.ToMode("CHW")], order=("image", "image_category"))

The transforms live in .vision (MegEngine's layout: vision.transform, vision.functional);
.functional holds engine's numpy image kernels (resize, pad, flip, colour conversions).
"""
from . import vision  # noqa: F401  (MegEngine's data.transform.vision path)
from .functional import INTER_AREA, INTER_CUBIC, INTER_LINEAR, INTER_NEAREST
from .meta_transform import CudaTransform, PseudoTransform, Transform
from .vision.transform import (
    BrightnessTransform,
    CenterCrop,
    ColorJitter,
    Compose,
    ContrastTransform,
    GaussianNoise,
    HueTransform,
    Lighting,
    Normalize,
    Pad,
    RandomCrop,
    RandomHorizontalFlip,
    RandomResize,
    RandomResizedCrop,
    RandomVerticalFlip,
    Resize,
    SaturationTransform,
    ShortestEdgeResize,
    ToMode,
    TorchTransformCompose,
    VisionTransform,
)

__all__ = [
    "Transform", "PseudoTransform", "CudaTransform", "VisionTransform", "Compose", "ToMode",
    "Normalize",
    "Resize", "RandomHorizontalFlip", "RandomVerticalFlip", "Pad", "CenterCrop",
    "INTER_NEAREST", "INTER_LINEAR", "INTER_CUBIC", "INTER_AREA",
    "RandomCrop", "RandomResize", "RandomResizedCrop", "ShortestEdgeResize",
    "BrightnessTransform", "ContrastTransform", "SaturationTransform", "HueTransform",
    "ColorJitter", "Lighting", "GaussianNoise", "TorchTransformCompose",
]
