"""Vision transforms (megengine.data.transform.vision): rewrite (image, boxes, mask, ...) samples.

A sample is a tuple whose fields are named by `order`, e.g. order=("image", "boxes", "label").
`VisionTransform.apply` calls `_apply_<name>` on each named field: images are HWC numpy arrays
(H, W, C), "coords" are (N, 2) xy points, "boxes" are (N, 4) xyxy, "mask" is (H, W[, 1]) and
"keypoints" (N, K, 3). Fields named "*category", "*info" or "*label" pass through untouched,
as do fields beyond the end of `order`. Inputs are never modified in place (samples are often
views into the dataset's arrays).
"""
import collections.abc
import numbers

import numpy as np

from .. import functional as VF
from ..meta_transform import Transform

__all__ = [
    "VisionTransform", "Compose", "ToMode", "Normalize", "Resize", "RandomHorizontalFlip",
    "RandomVerticalFlip", "Pad", "CenterCrop",
]

_PASS_THROUGH_SUFFIXES = ("category", "info", "label")


class VisionTransform(Transform):
    """Base class of the vision transforms, which rewrite (image, boxes, mask, ...)
    samples field by field.

    :meth:`apply` calls ``_apply_<name>`` on each field named by ``order``: images are HWC
    numpy arrays, "coords" are (N, 2) xy points, "boxes" (N, 4) xyxy, "mask" (H, W[, 1]) and
    "keypoints" (N, K, 3). Fields named "*category", "*info" or "*label" pass through, as do
    fields beyond the end of ``order``. A subclass implements ``_apply_image`` and, for the
    field kinds it supports, ``_apply_coords`` and ``_apply_mask`` (boxes and keypoints go
    through ``_apply_coords``). Inputs are never modified in place.

    Args:
        order: the names of the fields of a sample, e.g. ("image", "boxes",
            "image_category"); None means ("image",), a sample that is the image itself.

    Examples:
        >>> class Invert(mge.data.transform.VisionTransform):
        ...     def _apply_image(self, image):
        ...         return 255 - image
        >>> image = np.zeros((1, 2, 1), dtype=np.uint8)
        >>> out, label = Invert(order=("image", "image_category")).apply((image, 3))
        >>> out[..., 0], label
        (array([[255, 255]], dtype=uint8), 3)
    """

    def __init__(self, order=None):
        self.order = self._check_order(order)

    def _check_order(self, order):
        name = type(self).__name__
        if order is None:
            return ("image",)
        if isinstance(order, str) or not isinstance(order, collections.abc.Sequence):
            raise TypeError(f"{name}: order must be a sequence of field names such as "
                            f"('image', 'label'), got {order!r}")
        for key in order:
            if not isinstance(key, str) or key == "batch":
                raise ValueError(f"{name}: {key!r} is not a valid field name in order={order}")
            if key.endswith(_PASS_THROUGH_SUFFIXES):
                continue
            if self._get_apply(key) is None:
                raise NotImplementedError(f"{name}: unsupported field {key!r} in order={order}; "
                                          f"define {name}._apply_{key} to support it")
        return tuple(order)

    def apply(self, input):
        """Transforms one sample, field by field as ``order`` names them.

        Args:
            input: a tuple with one entry per name in ``order`` (extra entries pass through), or
                the image itself when order is ("image",).

        Returns:
            the transformed sample, of the same structure.

        Examples:
            >>> t = mge.data.transform.Pad(1, order=("image", "boxes", "image_category"))
            >>> image, boxes, label = t.apply((np.ones((2, 2, 1), "uint8"),
            ...                                np.array([[0., 0., 2., 2.]]), 7))
            >>> image.shape, boxes, label
            ((4, 4, 1), array([[1., 1., 3., 3.]]), 7)
        """
        sample = input if isinstance(input, tuple) else (input,)
        appliers = self._appliers()
        output = [value if fn is None else fn(self, value) for fn, value in zip(appliers, sample)]
        output.extend(sample[len(appliers):])
        return output[0] if len(output) == 1 else tuple(output)

    def _appliers(self):
        # the _apply_<field> function of each field in order (None: pass through), looked up once
        # per order rather than per sample: apply runs for every sample of every epoch
        cached = self.__dict__.get("_applier_cache")
        if cached is None or cached[0] is not self.order:
            cached = (self.order, [getattr(type(self), f"_apply_{key}", None)
                                   if self._get_apply(key) is not None else None
                                   for key in self.order])
            self._applier_cache = cached
        return cached[1]

    def _get_apply(self, key):
        if key.endswith(_PASS_THROUGH_SUFFIXES):
            return None
        return getattr(self, f"_apply_{key}", None)

    def _get_image(self, input):
        sample = input if isinstance(input, tuple) else (input,)
        if "image" not in self.order:
            raise ValueError(f"{type(self).__name__}: needs an 'image' field, order is "
                             f"{self.order}")
        image = np.asarray(sample[self.order.index("image")])
        if image.ndim not in (2, 3):
            raise ValueError(f"{type(self).__name__}: expected an HWC image of shape (H, W, C) "
                             f"or (H, W), got shape {image.shape}")
        return image

    def _apply_image(self, image):
        raise NotImplementedError(f"{type(self).__name__} does not transform images")

    def _apply_coords(self, coords):
        raise NotImplementedError(f"{type(self).__name__} does not transform coords")

    def _apply_mask(self, mask):
        raise NotImplementedError(f"{type(self).__name__} does not transform masks")

    def _apply_boxes(self, boxes):
        # transform the 4 corners of each xyxy box, then take their bounding box: (N, 4)
        boxes = np.asarray(boxes)
        corners = boxes.reshape(-1, 4)[:, [0, 1, 2, 1, 0, 3, 2, 3]].reshape(-1, 2)
        corners = self._apply_coords(corners).reshape(-1, 4, 2)
        return np.concatenate([corners.min(1), corners.max(1)], 1).astype(boxes.dtype, copy=False)

    def _apply_keypoints(self, keypoints):
        # (N, K, 3): xy are coordinates, the last entry is the visibility flag
        keypoints = np.asarray(keypoints)
        xy = np.stack([self._apply_coords(p) for p in keypoints[..., :2]]) if len(keypoints) \
            else keypoints[..., :2]
        return np.concatenate([xy, keypoints[..., 2:]], -1)


class Compose(VisionTransform):
    """Applies transforms one after another.

    Args:
        transforms: the transforms to apply, in order.
        batch_compose: apply each transform to the whole batch (``apply_batch``) before the
            next one, instead of running the whole chain sample by sample.
        shuffle_indices: groups of 1-based positions whose transforms are applied in a random
            order per sample, e.g. [(1, 2)] swaps the first two at random.
        order: field names; when given it is pushed down to every inner transform, as in
            MegEngine. When None, inner transforms keep their own order.

    Examples:
        >>> T = mge.data.transform
        >>> t = T.Compose([T.Resize((4, 4)), T.Normalize(mean=128., std=64.), T.ToMode("CHW")],
        ...               order=("image", "image_category"))
        >>> image, label = t.apply((np.full((8, 6, 3), 192, dtype=np.uint8), 1))
        >>> image.shape, image.dtype, float(image.mean()), label
        ((3, 4, 4), dtype('float32'), 1.0, 1)
    """

    def __init__(self, transforms=(), batch_compose=False, shuffle_indices=None, *, order=None):
        super().__init__(order)
        self.transforms = list(transforms)
        for i, t in enumerate(self.transforms):
            if not isinstance(t, Transform):
                raise TypeError(f"Compose: transforms[{i}] must be a Transform, got "
                                f"{type(t).__name__}")
        if order is not None:
            self._set_order(self.order)
        if batch_compose and shuffle_indices is not None:
            raise ValueError("Compose: shuffle_indices cannot be used with batch_compose=True")
        self.batch_compose = batch_compose
        if shuffle_indices is not None:
            groups = [tuple(int(i) - 1 for i in group) for group in shuffle_indices]
            bad = [i + 1 for g in groups for i in g if not 0 <= i < len(self.transforms)]
            if bad:
                raise ValueError(f"Compose: shuffle_indices are 1-based positions in [1, "
                                 f"{len(self.transforms)}], got {bad}")
            shuffle_indices = groups
        self.shuffle_indices = shuffle_indices

    def _set_order(self, order):
        for t in self.transforms:
            if isinstance(t, VisionTransform):
                t.order = t._check_order(order)
            if isinstance(t, Compose):
                t._set_order(order)

    def apply_batch(self, inputs):
        if not self.batch_compose:
            return super().apply_batch(inputs)
        for t in self.transforms:
            inputs = t.apply_batch(inputs)
        return inputs

    def apply(self, input):
        for t in self._ordered_transforms():
            input = t.apply(input)
        return input

    def _ordered_transforms(self):
        if self.shuffle_indices is None:
            return self.transforms
        positions = list(range(len(self.transforms)))
        for group in self.shuffle_indices:
            for src, dst in zip(group, np.random.permutation(group).tolist()):
                positions[src] = dst
        return [self.transforms[i] for i in positions]


class ToMode(VisionTransform):
    """Moves the channel axis of images and masks first: HWC -> CHW; an (H, W) image
    becomes (1, H, W).

    Args:
        mode: must be "CHW".
        order: the names of the fields of a sample, e.g. ("image", "boxes",
            "image_category"); None means ("image",), a sample that is the image itself.

    Examples:
        >>> image = np.zeros((4, 5, 3), dtype=np.uint8)
        >>> mge.data.transform.ToMode("CHW").apply(image).shape
        (3, 4, 5)
    """

    def __init__(self, mode="CHW", *, order=None):
        super().__init__(order)
        if mode != "CHW":
            raise ValueError(f"ToMode: unsupported mode {mode!r}; only 'CHW' is supported")
        self.mode = mode

    def _apply_image(self, image):
        image = np.asarray(image)
        if image.ndim == 2:
            return np.ascontiguousarray(image[None])
        if image.ndim != 3:
            raise ValueError(f"ToMode: expected an HWC image (H, W, C), got shape {image.shape}")
        return np.ascontiguousarray(image.transpose(2, 0, 1))

    def _apply_coords(self, coords):
        return coords

    _apply_mask = _apply_image


class Normalize(VisionTransform):
    """Normalizes an image: ``(image - mean) / std``, per channel when mean and std
    are sequences (one entry per channel C). The result is float32 for integer and float32
    images; coordinates and masks pass unchanged.

    Args:
        mean: a scalar or one value per channel.
        std: a scalar or one non-zero value per channel.
        order: the names of the fields of a sample, e.g. ("image", "boxes",
            "image_category"); None means ("image",), a sample that is the image itself.

    Examples:
        >>> image = np.array([[[10, 20, 30]]], dtype=np.uint8)
        >>> mge.data.transform.Normalize(mean=[10, 10, 10], std=[1, 2, 4]).apply(image)
        array([[[0., 5., 5.]]], dtype=float32)
    """

    def __init__(self, mean=0.0, std=1.0, *, order=None):
        super().__init__(order)
        self.mean = np.array(mean, dtype=np.float32)
        self.std = np.array(std, dtype=np.float32)
        if self.mean.ndim > 1 or self.std.ndim > 1:
            raise ValueError(f"Normalize: mean and std must be scalars or 1-D per-channel "
                             f"sequences, got shapes {self.mean.shape} and {self.std.shape}")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be non-zero, got {std!r}")

    def _apply_image(self, image):
        image = np.asarray(image)
        channels = image.shape[-1] if image.ndim == 3 else 1
        for name, value in (("mean", self.mean), ("std", self.std)):
            if value.ndim == 1 and value.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {value.size} entries but the image of "
                                 f"shape {image.shape} has {channels} channels (HWC expected)")
        return (image - self.mean) / self.std

    def _apply_coords(self, coords):
        return coords

    def _apply_mask(self, mask):
        return mask


class Resize(VisionTransform):
    """Resizes images (and scales coordinates; masks use nearest neighbour).

    The image arithmetic follows cv2.resize; integer images stay of their dtype (rounded
    and saturated).

    Args:
        output_size: (height, width), or an int: the shorter side becomes that long and the
            aspect ratio is kept.
        interpolation: INTER_LINEAR (the default), INTER_NEAREST, INTER_CUBIC or INTER_AREA
            (the cv2 constants, also exported here), or "bilinear", "nearest", "bicubic" or
            "area".
        order: the names of the fields of a sample, e.g. ("image", "boxes",
            "image_category"); None means ("image",), a sample that is the image itself.

    Examples:
        >>> T = mge.data.transform
        >>> image = np.zeros((4, 8, 3), dtype=np.uint8)
        >>> T.Resize((2, 2)).apply(image).shape
        (2, 2, 3)
        >>> T.Resize(2).apply(image).shape
        (2, 4, 3)
        >>> image, boxes = T.Resize((2, 4), order=("image", "boxes")).apply(
        ...     (image, np.array([[0., 0., 8., 4.]])))
        >>> boxes
        array([[0., 0., 4., 2.]])
    """

    def __init__(self, output_size, interpolation=VF.INTER_LINEAR, *, order=None):
        super().__init__(order)
        if isinstance(output_size, numbers.Integral):
            if output_size <= 0:
                raise ValueError(f"Resize: output_size must be positive, got {output_size}")
        elif not (isinstance(output_size, collections.abc.Sequence) and len(output_size) == 2
                  and all(isinstance(s, numbers.Integral) and s > 0 for s in output_size)):
            raise ValueError(f"Resize: output_size must be an int or (height, width), got "
                             f"{output_size!r}")
        VF._interpolation_code(interpolation)  # reject an unknown mode now, not mid-epoch
        self.output_size = output_size
        self.interpolation = interpolation

    def apply(self, input):
        self._shape_info = self._get_shape(self._get_image(input))
        return super().apply(input)

    def _get_shape(self, image):
        h, w = image.shape[:2]
        if isinstance(self.output_size, numbers.Integral):
            size = int(self.output_size)
            if min(h, w) == size:
                return h, w, h, w
            if h < w:
                return h, w, size, int(size * w / h)
            return h, w, int(size * h / w), size
        return (h, w, *self.output_size)

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


class _RandomFlip(VisionTransform):
    _horizontal = True

    def __init__(self, prob=0.5, *, order=None):
        super().__init__(order)
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"{type(self).__name__}: prob must be in [0, 1], got {prob}")
        self.prob = prob

    def apply(self, input):
        # one draw per sample (numpy's global stream, seeded per DataLoader worker), so the
        # image and its boxes/mask flip together
        self._flipped = np.random.random() < self.prob
        self._size = self._get_image(input).shape[1 if self._horizontal else 0]
        return super().apply(input)

    def _apply_image(self, image):
        return VF.flip(image, self._horizontal) if self._flipped else image

    def _apply_coords(self, coords):
        coords = np.array(coords)
        if self._flipped:
            axis = 0 if self._horizontal else 1
            coords[:, axis] = self._size - coords[:, axis]
        return coords

    _apply_mask = _apply_image


class RandomHorizontalFlip(_RandomFlip):
    """Mirrors left-right with probability ``prob`` (x -> W - x for
    coordinates). The image and its boxes and mask flip together; the draw comes from numpy's
    global stream (seeded per DataLoader worker).

    Args:
        prob: the probability of flipping, in [0, 1].
        order: the names of the fields of a sample, e.g. ("image", "boxes",
            "image_category"); None means ("image",), a sample that is the image itself.

    Examples:
        >>> image = np.array([[[1], [2], [3]]], dtype=np.uint8)
        >>> mge.data.transform.RandomHorizontalFlip(prob=1.0).apply(image)[..., 0]
        array([[3, 2, 1]], dtype=uint8)
        >>> mge.data.transform.RandomHorizontalFlip(prob=0.0).apply(image)[..., 0]
        array([[1, 2, 3]], dtype=uint8)
    """


class RandomVerticalFlip(_RandomFlip):
    """Mirrors top-bottom with probability ``prob`` (y -> H - y for
    coordinates). The image and its boxes and mask flip together; the draw comes from numpy's
    global stream (seeded per DataLoader worker).

    Args:
        prob: the probability of flipping, in [0, 1].
        order: the names of the fields of a sample, e.g. ("image", "boxes",
            "image_category"); None means ("image",), a sample that is the image itself.

    Examples:
        >>> image = np.array([[[1]], [[2]], [[3]]], dtype=np.uint8)
        >>> mge.data.transform.RandomVerticalFlip(prob=1.0).apply(image)[:, 0, 0]
        array([3, 2, 1], dtype=uint8)
    """

    _horizontal = False


class Pad(VisionTransform):
    """Pads images and masks with a constant (and shifts coordinates).

    Args:
        size: an int (all sides), (bottom, right) or (top, bottom, left, right).
        value: the image's fill value; a float value makes the image float32.
        mask_value: the masks' fill value.
        order: the names of the fields of a sample, e.g. ("image", "boxes",
            "image_category"); None means ("image",), a sample that is the image itself.

    Examples:
        >>> image = np.ones((2, 2, 1), dtype=np.uint8)
        >>> mge.data.transform.Pad(1).apply(image)[..., 0]
        array([[0, 0, 0, 0],
               [0, 1, 1, 0],
               [0, 1, 1, 0],
               [0, 0, 0, 0]], dtype=uint8)
        >>> mge.data.transform.Pad((1, 2)).apply(image).shape
        (3, 4, 1)
    """

    def __init__(self, size=0, value=0, mask_value=0, *, order=None):
        super().__init__(order)
        if isinstance(size, numbers.Integral):
            size = (size,) * 4
        elif isinstance(size, collections.abc.Sequence) and len(size) == 2:
            size = (0, size[0], 0, size[1])
        elif not (isinstance(size, collections.abc.Sequence) and len(size) == 4):
            raise ValueError(f"Pad: size must be an int, (bottom, right) or (top, bottom, left, "
                             f"right), got {size!r}")
        if any(int(s) < 0 for s in size):
            raise ValueError(f"Pad: pad sizes must be non-negative, got {size!r}")
        self.size = tuple(int(s) for s in size)
        self.value = value
        self.mask_value = mask_value

    def _apply_image(self, image):
        return VF.pad(image, self.size, self.value)

    def _apply_coords(self, coords):
        coords = np.array(coords)
        coords[:, 0] += self.size[2]
        coords[:, 1] += self.size[0]
        return coords

    def _apply_mask(self, mask):
        return VF.pad(mask, self.size, self.mask_value)


class CenterCrop(VisionTransform):
    """Crops the central region of images and masks (and shifts coordinates).

    Args:
        output_size: (height, width), or an int for a square; at most the image size.
        order: the names of the fields of a sample, e.g. ("image", "boxes",
            "image_category"); None means ("image",), a sample that is the image itself.

    Examples:
        >>> image = np.arange(16, dtype=np.uint8).reshape(4, 4, 1)
        >>> mge.data.transform.CenterCrop(2).apply(image)[..., 0]
        array([[ 5,  6],
               [ 9, 10]], dtype=uint8)
    """

    def __init__(self, output_size, *, order=None):
        super().__init__(order)
        if isinstance(output_size, numbers.Integral):
            output_size = (output_size, output_size)
        self.output_size = tuple(int(s) for s in output_size)

    def apply(self, input):
        h, w = self._get_image(input).shape[:2]
        th, tw = self.output_size
        if th > h or tw > w:
            raise ValueError(f"CenterCrop: crop size {self.output_size} is larger than the image "
                             f"({h}, {w})")
        self._box = (int(round((h - th) / 2)), int(round((w - tw) / 2)))
        return super().apply(input)

    def _apply_image(self, image):
        y, x = self._box
        th, tw = self.output_size
        return np.ascontiguousarray(image[y:y + th, x:x + tw])

    def _apply_coords(self, coords):
        coords = np.array(coords)
        coords[:, 0] -= self._box[1]
        coords[:, 1] -= self._box[0]
        return coords

    _apply_mask = _apply_image
