"""Random geometric transforms (megengine.data.transform): RandomCrop, RandomResize,
RandomResizedCrop, ShortestEdgeResize.

Each draws its random numbers once per sample, from numpy's global stream (seeded per
DataLoader worker), in the same order and with the same numpy calls as MegEngine, so
`np.random.seed(s)` gives MegEngine's crops and sizes. The image and its boxes / coords /
mask / keypoints in the same sample move together.
"""
import collections.abc
import math
import numbers

import numpy as np

from .. import functional as VF
from ._base import Pad, VisionTransform

__all__ = ["RandomCrop", "RandomResize", "RandomResizedCrop", "ShortestEdgeResize"]


def _pair(value, name, what):
    if isinstance(value, numbers.Integral):
        value = (value, value)
    if not (isinstance(value, collections.abc.Sequence) and len(value) == 2
            and all(isinstance(v, numbers.Integral) and v > 0 for v in value)):
        raise ValueError(f"{name}: {what} must be a positive int or (height, width), got "
                         f"{value!r}")
    return int(value[0]), int(value[1])


def _range(value, name, what, positive=True):
    if not (isinstance(value, collections.abc.Sequence) and len(value) == 2
            and all(isinstance(v, numbers.Real) for v in value)):
        raise ValueError(f"{name}: {what} must be a (min, max) pair, got {value!r}")
    if value[0] > value[1] or (positive and value[0] <= 0):
        raise ValueError(f"{name}: {what} must be (min, max) with 0 < min <= max, got "
                         f"{tuple(value)!r}")
    return tuple(value)


class _ResizeTo(VisionTransform):
    """Shared by the transforms that resize to a size chosen per sample: `_get_shape(image)`
    gives (h, w, th, tw); coordinates scale, masks use nearest neighbour."""

    def apply(self, input):
        self._shape_info = self._get_shape(self._get_image(input))
        return super().apply(input)

    def _apply_image(self, image):
        h, w, th, tw = self._shape_info
        if (h, w) == (th, tw):
            return image
        return VF.resize(image, (th, tw), self.interpolation)

    def _apply_coords(self, coords):
        h, w, th, tw = self._shape_info
        coords = np.array(coords, dtype=np.result_type(np.asarray(coords).dtype, np.float32))
        coords[:, 0] *= tw / w
        coords[:, 1] *= th / h
        return coords

    def _apply_mask(self, mask):
        h, w, th, tw = self._shape_info
        if (h, w) == (th, tw):
            return mask
        return VF.resize(mask, (th, tw), VF.INTER_NEAREST)


class ShortestEdgeResize(_ResizeTo):
    r"""Resize so that the shorter edge gets a random length, keeping the aspect ratio, and the
    longer edge is at most `max_size`.

    Args:
        min_size: the shorter edge's target: an int, or a (min, max) pair sampled uniformly
            (sample_style "range") or a sequence to choose from (sample_style "choice").
        max_size: the largest allowed longer edge; the image is shrunk further to fit.
        sample_style: "range" or "choice". Default: "range"
        interpolation: the resize interpolation (INTER_LINEAR, ...). Default: INTER_LINEAR
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.ShortestEdgeResize(8, 12).apply(np.zeros((10, 20, 3), np.uint8)).shape
        (6, 12, 3)
    """

    def __init__(self, min_size, max_size, sample_style="range",
                 interpolation=VF.INTER_LINEAR, *, order=None):
        super().__init__(order)
        if sample_style not in ("range", "choice"):
            raise NotImplementedError(f"ShortestEdgeResize: {sample_style!r} is an unsupported "
                                      "sample_style; expected 'range' or 'choice'")
        if isinstance(min_size, numbers.Integral):
            min_size = (min_size, min_size)
        if not (isinstance(min_size, collections.abc.Sequence) and len(min_size) > 0
                and all(isinstance(s, numbers.Integral) and s > 0 for s in min_size)):
            raise ValueError(f"ShortestEdgeResize: min_size must be a positive int or a "
                             f"sequence of them, got {min_size!r}")
        if sample_style == "range" and (len(min_size) != 2 or min_size[0] > min_size[1]):
            raise ValueError(f"ShortestEdgeResize: with sample_style='range' min_size must be "
                             f"(min, max), got {min_size!r}")
        VF._interpolation_code(interpolation)
        self.sample_style = sample_style
        self.min_size = min_size
        self.max_size = max_size
        self.interpolation = interpolation

    def _get_shape(self, image):
        h, w = image.shape[:2]
        if self.sample_style == "range":
            size = np.random.randint(self.min_size[0], self.min_size[1] + 1)
        else:
            size = np.random.choice(self.min_size)
        scale = size / min(h, w)
        th, tw = (size, scale * w) if h < w else (scale * h, size)
        if max(th, tw) > self.max_size:
            shrink = self.max_size / max(th, tw)
            th, tw = th * shrink, tw * shrink
        return h, w, int(round(th)), int(round(tw))


class RandomResize(_ResizeTo):
    r"""Resize both edges by one random factor drawn uniformly from `scale_range`.

    Args:
        scale_range: (min, max) of the scale factor.
        interpolation: the resize interpolation. Default: INTER_LINEAR
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.RandomResize((2, 2)).apply(np.zeros((4, 5, 3), np.uint8)).shape
        (8, 10, 3)
    """

    def __init__(self, scale_range, interpolation=VF.INTER_LINEAR, *, order=None):
        super().__init__(order)
        self.scale_range = _range(scale_range, "RandomResize", "scale_range")
        VF._interpolation_code(interpolation)
        self.interpolation = interpolation

    def _get_shape(self, image):
        h, w = image.shape[:2]
        scale = np.random.uniform(*self.scale_range)
        return h, w, int(round(h * scale)), int(round(w * scale))


class RandomCrop(VisionTransform):
    r"""Pad by `padding_size`, then crop a random `output_size` window; an image still smaller
    than the window is padded at the bottom / right up to it.

    Args:
        output_size: (height, width) of the crop, or an int for a square.
        padding_size: padded first, as `size` in :class:`Pad`. Default: 0
        padding_value: the image's padding value (per channel). Default: [0, 0, 0]
        padding_maskvalue: the mask's padding value when padding up to output_size (the first
            padding pads masks with 0, as in MegEngine). Default: 0
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.RandomCrop(4, padding_size=2).apply(np.zeros((5, 5, 3), np.uint8)).shape
        (4, 4, 3)
    """

    # padding_value's list default is MegEngine's signature; it is never mutated
    def __init__(self, output_size, padding_size=0, padding_value=[0, 0, 0],  # noqa: B006
                 padding_maskvalue=0, *, order=None):
        super().__init__(order)
        self.output_size = _pair(output_size, "RandomCrop", "output_size")
        self.pad = Pad(padding_size, padding_value, order=self.order)
        self.padding_value = padding_value
        self.padding_maskvalue = padding_maskvalue

    def apply(self, input):
        self.pad.order = self.order  # Compose(order=...) may have changed ours
        input = self.pad.apply(input)
        self._h, self._w = self._get_image(input).shape[:2]
        self._th, self._tw = self.output_size
        self._x = np.random.randint(0, max(0, self._w - self._tw) + 1)
        self._y = np.random.randint(0, max(0, self._h - self._th) + 1)
        return super().apply(input)

    def _crop(self, image, value):
        if self._th > self._h:
            image = VF.pad(image, (0, self._th - self._h, 0, 0), value)
        if self._tw > self._w:
            image = VF.pad(image, (0, 0, 0, self._tw - self._w), value)
        return np.ascontiguousarray(image[self._y:self._y + self._th,
                                          self._x:self._x + self._tw])

    def _apply_image(self, image):
        return self._crop(image, self.padding_value)

    def _apply_coords(self, coords):
        coords = np.array(coords)
        coords[:, 0] -= self._x
        coords[:, 1] -= self._y
        return coords

    def _apply_mask(self, mask):
        return self._crop(mask, self.padding_maskvalue)


class RandomResizedCrop(VisionTransform):
    r"""Crop a random area fraction (`scale_range`) with a random aspect ratio (`ratio_range`,
    sampled log-uniformly), then resize it to `output_size`; after 10 failed attempts, a
    central crop with the nearest allowed ratio.

    Args:
        output_size: (height, width) of the output, or an int for a square.
        scale_range: (min, max) fraction of the image area. Default: (0.08, 1.0)
        ratio_range: (min, max) width / height of the crop. Default: (3/4, 4/3)
        interpolation: the resize interpolation. Default: INTER_LINEAR
        order: the field names of a sample, as in :class:`VisionTransform`.

    Examples:
        >>> import numpy as np
        >>> import engine.data.transform as T
        >>> T.RandomResizedCrop(8).apply(np.zeros((20, 30, 3), np.uint8)).shape
        (8, 8, 3)
    """

    def __init__(self, output_size, scale_range=(0.08, 1.0), ratio_range=(3.0 / 4, 4.0 / 3),
                 interpolation=VF.INTER_LINEAR, *, order=None):
        super().__init__(order)
        self.output_size = _pair(output_size, "RandomResizedCrop", "output_size")
        self.scale_range = _range(scale_range, "RandomResizedCrop", "scale_range")
        self.ratio_range = _range(ratio_range, "RandomResizedCrop", "ratio_range")
        VF._interpolation_code(interpolation)
        self.interpolation = interpolation

    def apply(self, input):
        self._coord_info = self._get_coord(self._get_image(input))
        return super().apply(input)

    def _apply_image(self, image):
        x, y, w, h = self._coord_info
        return VF.resize(image[y:y + h, x:x + w], self.output_size, self.interpolation)

    def _apply_coords(self, coords):
        x, y, w, h = self._coord_info
        coords = np.array(coords, dtype=np.result_type(np.asarray(coords).dtype, np.float32))
        coords[:, 0] = (coords[:, 0] - x) * self.output_size[1] / w
        coords[:, 1] = (coords[:, 1] - y) * self.output_size[0] / h
        return coords

    def _apply_mask(self, mask):
        x, y, w, h = self._coord_info
        return VF.resize(mask[y:y + h, x:x + w], self.output_size, VF.INTER_NEAREST)

    def _get_coord(self, image, attempts=10):
        height, width = image.shape[:2]
        area = height * width
        log_ratio = tuple(math.log(r) for r in self.ratio_range)
        for _ in range(attempts):
            target_area = np.random.uniform(*self.scale_range) * area
            aspect_ratio = math.exp(np.random.uniform(*log_ratio))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                x = np.random.randint(0, width - w + 1)
                y = np.random.randint(0, height - h + 1)
                return x, y, w, h
        in_ratio = width / height
        if in_ratio < min(self.ratio_range):
            w, h = width, int(round(width / min(self.ratio_range)))
        elif in_ratio > max(self.ratio_range):
            w, h = int(round(height * max(self.ratio_range))), height
        else:
            w, h = width, height
        return (width - w) // 2, (height - h) // 2, w, h
