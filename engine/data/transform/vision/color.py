"""Photometric transforms (megengine.data.transform): brightness, contrast, saturation, hue,
ColorJitter, AlexNet's Lighting and GaussianNoise, plus TorchTransformCompose (torchvision's
PIL transforms inside a MegEngine pipeline).

Images are HWC BGR (OpenCV's convention, as MegEngine's datasets return them). Random factors
come from numpy's global stream with MegEngine's calls, and the arithmetic follows MegEngine's
dtypes (float32 images, float64 scalars), so a seed gives MegEngine's pixels. Results are
clipped to [0, 255] and cast back to the input dtype (truncating, like astype). Only images
change: boxes, masks and keypoints pass through.
"""
import numbers

import numpy as np

from .. import _color
from ..meta_transform import Transform
from ._base import Compose, VisionTransform

__all__ = [
    "BrightnessTransform", "ContrastTransform", "SaturationTransform", "HueTransform",
    "ColorJitter", "Lighting", "GaussianNoise", "TorchTransformCompose",
]


def _check_value(value, name, high=None):
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0 \
            or (high is not None and value > high):
        span = "non-negative" if high is None else f"in [0, {high}]"
        raise ValueError(f"{name}: value must be a number {span}, got {value!r}")
    return value


class _Photometric(VisionTransform):
    """Image-only transforms: coordinates and masks are returned unchanged."""

    def _apply_coords(self, coords):
        return coords

    def _apply_mask(self, mask):
        return mask


def _factor(value):
    return np.random.uniform(max(0, 1 - value), 1 + value)


class BrightnessTransform(_Photometric):
    r"""Scale the image by a random factor in [max(0, 1 - value), 1 + value].

    Args:
        value: how much to jitter; non-negative, 0 keeps the image.
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> np.random.seed(0)
        >>> T.BrightnessTransform(0.5).apply(np.full((1, 1, 3), 100, np.uint8))[0, 0]
        array([104, 104, 104], dtype=uint8)
    """

    def __init__(self, value, *, order=None):
        super().__init__(order)
        self.value = _check_value(value, "BrightnessTransform")

    def _apply_image(self, image):
        if self.value == 0:
            return image
        alpha = _factor(self.value)
        image = np.asarray(image)
        out = image.astype(np.float32) * alpha
        return out.clip(0, 255).astype(image.dtype)


class ContrastTransform(_Photometric):
    r"""Blend the image with its mean gray level: image * a + mean(gray) * (1 - a), a random
    in [max(0, 1 - value), 1 + value].

    Args:
        value: how much to jitter; non-negative, 0 keeps the image.
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.ContrastTransform(0.5).apply(np.full((2, 2, 3), 7, np.uint8)).shape
        (2, 2, 3)
    """

    def __init__(self, value, *, order=None):
        super().__init__(order)
        self.value = _check_value(value, "ContrastTransform")

    def _apply_image(self, image):
        if self.value == 0:
            return image
        alpha = _factor(self.value)
        image = np.asarray(image)
        work = image.astype(np.float32)
        mean = float(_color.to_gray(work).mean())
        out = work * alpha + mean * (1 - alpha)
        return out.clip(0, 255).astype(image.dtype)


class SaturationTransform(_Photometric):
    r"""Blend each pixel with its gray level: image * a + gray * (1 - a), a random in
    [max(0, 1 - value), 1 + value].

    Args:
        value: how much to jitter; non-negative, 0 keeps the image.
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.SaturationTransform(0.5).apply(np.full((2, 2, 3), 9, np.uint8))[0, 0]
        array([9, 9, 9], dtype=uint8)
    """

    def __init__(self, value, *, order=None):
        super().__init__(order)
        self.value = _check_value(value, "SaturationTransform")

    def _apply_image(self, image):
        if self.value == 0:
            return image
        alpha = _factor(self.value)
        image = np.asarray(image)
        work = image.astype(np.float32)
        out = work * alpha + _color.to_gray(work) * (1 - alpha)
        return out.clip(0, 255).astype(image.dtype)


class HueTransform(_Photometric):
    r"""Rotate the hue by a random fraction in [-value, value] of the colour circle (in
    OpenCV's full-range HSV, on uint8 pixels).

    Args:
        value: a number in [0, 0.5]; 0 keeps the image.
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.HueTransform(0.2).apply(np.full((2, 2, 3), 50, np.uint8))[0, 0]  # gray has no hue
        array([50, 50, 50], dtype=uint8)
    """

    def __init__(self, value, *, order=None):
        super().__init__(order)
        self.value = _check_value(value, "HueTransform", high=0.5)

    def _apply_image(self, image):
        if self.value == 0:
            return image
        image = np.asarray(image)
        hsv = _color.bgr_to_hsv_full(image.astype(np.uint8))
        alpha = np.random.uniform(-self.value, self.value)
        # MegEngine adds np.uint8(alpha * 255): truncation toward zero, wrapping mod 256 (the
        # hue is a circle)
        shift = np.uint8(int(alpha * 255) % 256)
        hsv[..., 0] += shift
        return _color.hsv_full_to_bgr(hsv).astype(image.dtype)


class ColorJitter(VisionTransform):
    r"""Brightness, contrast, saturation and hue jitter, applied in a random order per sample.

    Args:
        brightness: as in :class:`BrightnessTransform` (0: off). Default: 0
        contrast: as in :class:`ContrastTransform` (0: off). Default: 0
        saturation: as in :class:`SaturationTransform` (0: off). Default: 0
        hue: as in :class:`HueTransform`, in [0, 0.5] (0: off). Default: 0
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.ColorJitter(0.4, 0.4, 0.4, 0.1).apply(np.zeros((4, 4, 3), np.uint8)).shape
        (4, 4, 3)
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, *, order=None):
        super().__init__(order)
        transforms = []
        if brightness != 0:
            transforms.append(BrightnessTransform(brightness))
        if contrast != 0:
            transforms.append(ContrastTransform(contrast))
        if saturation != 0:
            transforms.append(SaturationTransform(saturation))
        if hue != 0:
            transforms.append(HueTransform(hue))
        self.transforms = Compose(transforms,
                                  shuffle_indices=[tuple(range(1, len(transforms) + 1))],
                                  order=self.order)

    def apply(self, input):
        if self.transforms.order != self.order:  # Compose(order=...) may have changed ours
            self.transforms.order = self.order
            self.transforms._set_order(self.order)
        return self.transforms.apply(input)


class Lighting(_Photometric):
    r"""AlexNet's PCA lighting noise: add eigvec @ (alpha * eigval), alpha ~ N(0, scale * 255)
    per channel, with ImageNet's RGB eigenvectors (rows reversed for BGR images).

    Args:
        scale: the standard deviation of alpha (in units of 255); non-negative.
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.Lighting(0.1).apply(np.full((2, 2, 3), 128, np.uint8)).shape
        (2, 2, 3)
    """

    def __init__(self, scale, *, order=None):
        super().__init__(order)
        self.scale = _check_value(scale, "Lighting")
        self.eigvec = np.array([[-0.5836, -0.6948, 0.4203],
                                [-0.5808, -0.0045, -0.8140],
                                [-0.5675, 0.7192, 0.4009]])
        self.eigval = np.array([0.2175, 0.0188, 0.0045])

    def _apply_image(self, image):
        if self.scale == 0:
            return image
        image = np.asarray(image)
        alpha = np.random.normal(scale=self.scale * 255, size=3)
        out = image.astype(np.float32) + self.eigvec.dot(alpha * self.eigval)  # float64
        return out.clip(0, 255).astype(image.dtype)


class GaussianNoise(_Photometric):
    r"""Add N(mean, std) * 255 noise per pixel and channel.

    Args:
        mean: the noise mean (in units of 255). Default: 0.0
        std: the noise standard deviation (in units of 255). Default: 1.0
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.GaussianNoise(0.0, 0.0).apply(np.full((1, 2, 3), 5, np.uint8))[0, 0]
        array([5, 5, 5], dtype=uint8)
    """

    def __init__(self, mean=0.0, std=1.0, *, order=None):
        super().__init__(order)
        self.mean = np.array(mean, dtype=np.float32)
        self.std = np.array(std, dtype=np.float32)
        if np.any(self.std < 0):
            raise ValueError(f"GaussianNoise: std must be non-negative, got {std!r}")

    def _apply_image(self, image):
        image = np.asarray(image)
        noise = np.random.normal(self.mean, self.std, image.shape) * 255
        out = image + noise.astype(np.float32)
        return np.clip(out, 0, 255).astype(image.dtype)


class TorchTransformCompose(VisionTransform):
    r"""Run torchvision-style transforms (callables on PIL images) on the image field.

    The HWC BGR uint8 image becomes an RGB PIL image (a gray one an "L" image), goes through
    `transforms` in turn, and comes back as an HWC BGR uint8 array. Transforms that return
    tensors (torchvision's ToTensor, Normalize) are not supported, as in MegEngine.

    Args:
        transforms: a sequence of callables taking and returning a PIL image.
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> from PIL import Image
        >>> import engine.data.transform as T
        >>> flip = T.TorchTransformCompose([lambda im: im.transpose(Image.FLIP_LEFT_RIGHT)])
        >>> flip.apply(np.arange(6, dtype=np.uint8).reshape(1, 2, 3))
        array([[[3, 4, 5],
                [0, 1, 2]]], dtype=uint8)
    """

    def __init__(self, transforms, *, order=None):
        super().__init__(order)
        if isinstance(transforms, Transform) or callable(transforms):
            transforms = [transforms]
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not callable(t):
                raise TypeError(f"TorchTransformCompose: transforms[{i}] must be callable, got "
                                f"{type(t).__name__}")

    def _apply_image(self, image):
        from PIL import Image

        image = np.asarray(image)
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[..., 0]
        if image.ndim == 3 and image.shape[2] == 3:
            image = image[..., ::-1]  # BGR -> RGB
        elif image.ndim != 2:
            raise ValueError(f"TorchTransformCompose: expected an HWC image with 1 or 3 "
                             f"channels, got shape {image.shape}")
        pil = Image.fromarray(np.ascontiguousarray(image.astype(np.uint8)))
        for t in self.transforms:
            pil = t(pil)
        out = np.array(pil, dtype=np.uint8)
        if out.ndim == 3 and out.shape[2] == 3:
            out = np.ascontiguousarray(out[..., ::-1])  # RGB -> BGR
        return out

    def _apply_coords(self, coords):
        return coords

    def _apply_mask(self, mask):
        return mask
