"""Detection transforms: each one rewrites a dataset item (image and boxes together).

An item is the contract's dict: {"image": (H, W, 3) uint8, "boxes": (K, 4) float32 x1y1x2y2,
"labels", "image_id", "orig_size", "scale": (sy, sx), "flipped": bool}. A transform is called as
`t(item, rng)` and returns the new item; `rng` is a numpy RandomState (or the np.random module)
that every random decision is drawn from, so that a sample's augmentation depends only on the
seed the sampler gave it (reproducible across num_workers and exact on resume).
"""
import numbers

import numpy as np
from PIL import Image

from det.registry import TRANSFORMS, ConfigBuildError, build_from_config

__all__ = ["ResizeShortestEdge", "RandomFlip", "Compose", "build_transforms"]


def _check_positive_int(owner, name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


@TRANSFORMS.register()
class ResizeShortestEdge:
    """Resize (bilinear) so that the shorter edge is `min_size`, unless that makes the longer
    edge exceed `max_size`, in which case the longer edge is `max_size` (detectron2's rule).

    Args:
        min_size: an int, or a tuple of ints to choose from at random (multi-scale training).
        max_size: cap on the longer edge.

    Sets item["scale"] to (sy, sx) = transformed / original size (multiplied into an existing
    scale), and scales the boxes by it.
    """

    def __init__(self, min_size, max_size):
        sizes = tuple(min_size) if isinstance(min_size, (tuple, list)) else (min_size,)
        if not sizes:
            raise ValueError("ResizeShortestEdge: min_size must be an int or a non-empty tuple")
        self.min_sizes = tuple(_check_positive_int("ResizeShortestEdge", "min_size", s)
                               for s in sizes)
        self.max_size = _check_positive_int("ResizeShortestEdge", "max_size", max_size)

    def __repr__(self):
        return f"ResizeShortestEdge(min_size={self.min_sizes}, max_size={self.max_size})"

    def get_output_shape(self, h, w, short):
        """(new_h, new_w) for an (h, w) image and the chosen shortest-edge size."""
        scale = short / min(h, w)
        if max(h, w) * scale > self.max_size:
            scale = self.max_size / max(h, w)
        return max(1, int(h * scale + 0.5)), max(1, int(w * scale + 0.5))

    def __call__(self, item, rng=np.random):
        image = item["image"]
        h, w = image.shape[:2]
        short = self.min_sizes[0] if len(self.min_sizes) == 1 else \
            self.min_sizes[int(rng.randint(len(self.min_sizes)))]
        nh, nw = self.get_output_shape(h, w, short)
        if (nh, nw) == (h, w):
            return item
        out = dict(item)
        out["image"] = np.asarray(Image.fromarray(image).resize((nw, nh), Image.BILINEAR))
        sy, sx = nh / h, nw / w
        # (K, 4) x1y1x2y2: x scales by sx, y by sy
        out["boxes"] = (item["boxes"] * np.array([sx, sy, sx, sy], np.float32)).astype(np.float32)
        old_sy, old_sx = item.get("scale", (1.0, 1.0))
        out["scale"] = (old_sy * sy, old_sx * sx)
        return out


@TRANSFORMS.register()
class RandomFlip:
    """Horizontal flip with probability `prob`; boxes become (W - x2, y1, W - x1, y2) and
    item["flipped"] is toggled."""

    def __init__(self, prob=0.5):
        if isinstance(prob, bool) or not isinstance(prob, numbers.Real) or not 0 <= prob <= 1:
            raise ValueError(f"RandomFlip: prob must be a number in [0, 1], got {prob!r}")
        self.prob = float(prob)

    def __repr__(self):
        return f"RandomFlip(prob={self.prob})"

    def __call__(self, item, rng=np.random):
        # always draw, so that the stream advances the same way whatever the outcome
        if not rng.random_sample() < self.prob:
            return item
        out = dict(item)
        image = item["image"]
        w = image.shape[1]
        out["image"] = np.ascontiguousarray(image[:, ::-1])
        boxes = item["boxes"]  # (K, 4)
        out["boxes"] = np.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]],
                                axis=1).astype(np.float32)
        out["flipped"] = not item.get("flipped", False)
        return out


class Compose:
    """Apply transforms in order with one shared rng."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: every transform must be callable(item, rng), got "
                                f"{type(t).__name__}")

    def __repr__(self):
        return f"Compose({self.transforms})"

    def __call__(self, item, rng=np.random):
        for t in self.transforms:
            item = t(item, rng)
        return item


def build_transforms(cfg, training):
    """Compose of the transforms that data.train_transforms / data.test_transforms list (dicts
    for det.registry.TRANSFORMS, e.g. [dict(name="ResizeShortestEdge", min_size=800,
    max_size=1333), dict(name="RandomFlip", prob=0.5)]). None (the default) is the standard
    pipeline from cfg.data: ResizeShortestEdge(min_size, max_size), plus
    RandomFlip(data.flip_prob, default 0.5) when training. At test time a tuple min_size
    (multi-scale training) gives its largest entry, unless data.min_size_test is set."""
    data = cfg.data
    key = "train_transforms" if training else "test_transforms"
    specs = data.get(key)
    if specs is None:
        specs = _default_transforms(data, training)
    elif not isinstance(specs, (list, tuple)):
        raise ConfigBuildError(f"data.{key}: expected a list of dicts such as "
                               f"[dict(name='RandomFlip', prob=0.5)], got {specs!r}")
    return Compose([build_from_config(TRANSFORMS, spec, f"data.{key}[{i}]")
                    for i, spec in enumerate(specs)])


def _default_transforms(data, training):
    min_size, max_size = data["min_size"], data["max_size"]
    if not training:
        test_size = data.get("min_size_test")
        if test_size is None:
            test_size = max(min_size) if isinstance(min_size, (tuple, list)) else min_size
        return [dict(name="ResizeShortestEdge", min_size=test_size, max_size=max_size)]
    return [dict(name="ResizeShortestEdge", min_size=min_size, max_size=max_size),
            dict(name="RandomFlip", prob=data.get("flip_prob", 0.5))]
