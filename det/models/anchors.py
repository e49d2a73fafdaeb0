"""Locations on the feature maps: FCOS points and RetinaNet anchors (numpy, host side).

Both are laid out in the order the heads flatten their outputs: level by level, then row-major
over (y, x), then (for anchors) anchor type fastest, so index i of a flattened prediction and
of the points / anchors refer to the same location.
"""
import numpy as np

__all__ = ["grid_points", "AnchorGenerator"]


def grid_points(height, width, stride):
    """Centres of the cells of an (height, width) map of the given stride -> (H * W, 2) (x, y).

    Cell (i, j) covers image pixels [j * s, (j + 1) * s), its centre is j * s + s // 2
    (FCOS's convention).
    """
    xs = np.arange(width, dtype=np.float32) * stride + stride // 2
    ys = np.arange(height, dtype=np.float32) * stride + stride // 2
    yy, xx = np.meshgrid(ys, xs, indexing="ij")  # (H, W) each
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


class AnchorGenerator:
    """RetinaNet anchors: per level, `len(scales) * len(ratios)` boxes centred on each cell.

    Args:
        sizes: base anchor size per level (RetinaNet: 32, 64, 128, 256, 512 for P3-P7).
        scales: multipliers of the base size (RetinaNet: 2^0, 2^(1/3), 2^(2/3)).
        ratios: height / width aspect ratios (0.5, 1, 2).
        offset: cell-centre offset in units of the stride (0.5 puts anchors at cell centres;
            detectron2's default 0.0 puts them at cell corners).
    """

    def __init__(self, sizes=(32, 64, 128, 256, 512), scales=(1.0, 2 ** (1 / 3), 2 ** (2 / 3)),
                 ratios=(0.5, 1.0, 2.0), offset=0.5):
        if not sizes or not scales or not ratios:
            raise ValueError(f"AnchorGenerator: sizes, scales and ratios must be non-empty, got "
                             f"sizes={sizes}, scales={scales}, ratios={ratios}")
        if min(sizes) <= 0 or min(scales) <= 0 or min(ratios) <= 0:
            raise ValueError(f"AnchorGenerator: sizes, scales and ratios must be positive, got "
                             f"sizes={sizes}, scales={scales}, ratios={ratios}")
        self.sizes = tuple(float(s) for s in sizes)
        self.scales = tuple(float(s) for s in scales)
        self.ratios = tuple(float(r) for r in ratios)
        self.offset = float(offset)
        self._cache = {}

    @property
    def num_anchors(self):
        """Anchors per location (the same on every level)."""
        return len(self.scales) * len(self.ratios)

    def cell_anchors(self, level):
        """(A, 4) anchors centred on (0, 0) for `level` (an index into sizes); for each ratio,
        each scale (ratio-major, as detectron2), area (size * scale)^2 and h / w = ratio."""
        size = self.sizes[level]
        areas = (size * np.asarray(self.scales)) ** 2  # (S,)
        ratios = np.asarray(self.ratios)[:, None]  # (R, 1)
        w = np.sqrt(areas[None, :] / ratios)  # (R, S)
        h = w * ratios
        half = np.stack([-w, -h, w, h], axis=-1).reshape(-1, 4) / 2
        return half.astype(np.float32)

    def __call__(self, feature_shapes, strides):
        """Anchors of every level: list of (H_l * W_l * A, 4) arrays.

        feature_shapes: [(H_l, W_l)] per level; strides: [s_l].
        """
        if len(feature_shapes) != len(self.sizes) or len(strides) != len(self.sizes):
            raise ValueError(f"AnchorGenerator: {len(self.sizes)} sizes but {len(feature_shapes)} "
                             f"feature maps and {len(strides)} strides")
        key = (tuple(tuple(s) for s in feature_shapes), tuple(strides))
        if key not in self._cache:
            out = []
            for level, ((h, w), s) in enumerate(zip(feature_shapes, strides)):
                xs = (np.arange(w, dtype=np.float32) + self.offset) * s
                ys = (np.arange(h, dtype=np.float32) + self.offset) * s
                yy, xx = np.meshgrid(ys, xs, indexing="ij")
                shifts = np.stack([xx, yy, xx, yy], axis=-1).reshape(-1, 1, 4)  # (HW, 1, 4)
                out.append((shifts + self.cell_anchors(level)[None]).reshape(-1, 4))
            self._cache[key] = out
        return self._cache[key]
