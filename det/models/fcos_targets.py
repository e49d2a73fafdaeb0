"""FCOS target assignment (Tian et al. 2019), vectorised over points x boxes with numpy.

A point is a positive for a box when (a) it lies inside the box, or with center sampling inside
the box's centre region of radius `radius * stride` (clipped to the box), and (b) the largest of
its four distances to the box sides falls in the size range of the point's level. A point that
is positive for several boxes takes the one of smallest area; a point positive for none is
background.
"""
import numpy as np

from .box_ops import box_area, check_boxes, ltrb_from_points

__all__ = ["FCOSTargets", "DEFAULT_SIZE_RANGES"]

INF = 1e8
# Per level P3..P7: the max regression distance a level is responsible for (FCOS paper).
DEFAULT_SIZE_RANGES = ((0, 64), (64, 128), (128, 256), (256, 512), (512, INF))


class FCOSTargets:
    """Targets for all points of one image.

    Args:
        strides: per level.
        size_ranges: per level (lo, hi): positive when lo <= max(l, t, r, b) <= hi.
        center_sampling_radius: radius in strides of the centre region; 0 turns sampling off
            (every point inside the box counts).
    """

    def __init__(self, strides, size_ranges=DEFAULT_SIZE_RANGES, center_sampling_radius=1.5):
        if len(size_ranges) != len(strides):
            raise ValueError(f"FCOSTargets: {len(strides)} levels but {len(size_ranges)} "
                             f"size_ranges")
        if center_sampling_radius < 0:
            raise ValueError(f"FCOSTargets: center_sampling_radius must be >= 0, got "
                             f"{center_sampling_radius}")
        self.strides = tuple(strides)
        self.size_ranges = np.asarray(size_ranges, np.float32)
        self.radius = float(center_sampling_radius)

    def __call__(self, points, level_sizes, boxes, labels):
        """Assign every point.

        points: (P, 2) (x, y), level by level; level_sizes: points per level (sums to P);
        boxes (K, 4), labels (K,).
        Returns matched (P,) int (index into boxes, -1 for background), labels (P,) int32 (-1
        for background) and ltrb (P, 4) float32 distances to the matched box (0 for background).
        """
        boxes = check_boxes(boxes, "FCOSTargets", "boxes")
        labels = np.asarray(labels).reshape(-1)
        if labels.shape[0] != boxes.shape[0]:
            raise ValueError(f"FCOSTargets: {boxes.shape[0]} boxes but {labels.shape[0]} labels")
        if sum(level_sizes) != points.shape[0] or len(level_sizes) != len(self.strides):
            raise ValueError(f"FCOSTargets: level_sizes {list(level_sizes)} must have one entry "
                             f"per level ({len(self.strides)}) and sum to the {points.shape[0]} "
                             f"points")
        num_points = points.shape[0]
        if boxes.shape[0] == 0:
            return (np.full(num_points, -1, np.int64), np.full(num_points, -1, np.int32),
                    np.zeros((num_points, 4), np.float32))
        level = np.repeat(np.arange(len(level_sizes)), level_sizes)  # (P,)
        stride = np.asarray(self.strides, np.float32)[level]  # (P,)
        lo, hi = self.size_ranges[level, 0], self.size_ranges[level, 1]  # (P,)

        ltrb = ltrb_from_points(points, boxes)  # (P, K, 4)
        if self.radius > 0:
            cx = (boxes[:, 0] + boxes[:, 2]) / 2  # (K,)
            cy = (boxes[:, 1] + boxes[:, 3]) / 2
            r = stride[:, None] * self.radius  # (P, 1)
            region = np.stack([np.maximum(cx - r, boxes[:, 0]), np.maximum(cy - r, boxes[:, 1]),
                               np.minimum(cx + r, boxes[:, 2]), np.minimum(cy + r, boxes[:, 3])],
                              axis=-1)  # (P, K, 4)
            x, y = points[:, None, 0], points[:, None, 1]
            inside = ((x > region[..., 0]) & (y > region[..., 1]) &
                      (x < region[..., 2]) & (y < region[..., 3]))  # (P, K)
        else:
            inside = ltrb.min(axis=-1) > 0
        max_dist = ltrb.max(axis=-1)  # (P, K)
        in_range = (max_dist >= lo[:, None]) & (max_dist <= hi[:, None])

        area = np.broadcast_to(box_area(boxes)[None, :], inside.shape)  # (P, K)
        area = np.where(inside & in_range, area, np.inf)
        matched = area.argmin(axis=1)  # (P,): smallest box among the candidates
        positive = np.isfinite(area[np.arange(num_points), matched])
        matched = np.where(positive, matched, -1)
        point_labels = np.where(positive, labels[np.maximum(matched, 0)], -1).astype(np.int32)
        point_ltrb = ltrb[np.arange(num_points), np.maximum(matched, 0)]  # (P, 4)
        point_ltrb = np.where(positive[:, None], point_ltrb, 0).astype(np.float32)
        return matched, point_labels, point_ltrb
