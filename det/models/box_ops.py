"""Box utilities on numpy arrays (targets and post-processing run on the host, vectorised).

Boxes are x1, y1, x2, y2 in continuous pixel coordinates (a box covering pixels 0..9 is
[0, 0, 10, 10]); points are (x, y).
"""
import numpy as np

__all__ = [
    "box_area", "box_iou", "ltrb_from_points", "boxes_from_ltrb", "clip_boxes", "flip_boxes",
    "scale_boxes", "check_boxes",
]


def check_boxes(boxes, fn, name="boxes"):
    """boxes as a float32 (K, 4) array, or a ValueError naming fn and the shape."""
    boxes = np.asarray(boxes, dtype=np.float32)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{fn}: {name} must have shape (K, 4) = x1, y1, x2, y2, "
                         f"got {boxes.shape}")
    return boxes


def box_area(boxes):
    """(..., 4) -> (...); degenerate boxes (x2 < x1) have area 0."""
    boxes = np.asarray(boxes, dtype=np.float32)
    w = np.clip(boxes[..., 2] - boxes[..., 0], 0, None)
    h = np.clip(boxes[..., 3] - boxes[..., 1], 0, None)
    return w * h


def box_iou(a, b):
    """Pairwise IoU of (N, 4) and (M, 4) boxes -> (N, M) (host twin of F.vision.box_iou)."""
    a, b = check_boxes(a, "box_iou", "a"), check_boxes(b, "box_iou", "b")
    lt = np.maximum(a[:, None, :2], b[None, :, :2])  # (N, M, 2)
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)


def ltrb_from_points(points, boxes):
    """Distances from every point to the four sides of every box.

    points (P, 2), boxes (K, 4) -> (P, K, 4) = (x - x1, y - y1, x2 - x, y2 - y); all four are
    positive exactly when the point lies strictly inside the box.
    """
    x = points[:, None, 0]  # (P, 1)
    y = points[:, None, 1]
    return np.stack([x - boxes[None, :, 0], y - boxes[None, :, 1],
                     boxes[None, :, 2] - x, boxes[None, :, 3] - y], axis=-1)


def boxes_from_ltrb(points, ltrb):
    """Inverse of ltrb_from_points for matched pairs: (P, 2), (P, 4) -> (P, 4) boxes."""
    return np.concatenate([points - ltrb[:, :2], points + ltrb[:, 2:]], axis=1)


def clip_boxes(boxes, height, width):
    """Clip (K, 4) boxes to the image [0, width] x [0, height]."""
    out = np.array(boxes, dtype=np.float32, copy=True)
    out[:, 0::2] = np.clip(out[:, 0::2], 0, width)
    out[:, 1::2] = np.clip(out[:, 1::2], 0, height)
    return out


def flip_boxes(boxes, width):
    """Mirror (K, 4) boxes horizontally in an image of `width`: x -> width - x (x1, x2 swap)."""
    out = np.array(boxes, dtype=np.float32, copy=True)
    out[:, 0] = width - boxes[:, 2]
    out[:, 2] = width - boxes[:, 0]
    return out


def scale_boxes(boxes, sy, sx):
    """Multiply x by sx and y by sy."""
    return np.asarray(boxes, dtype=np.float32) * np.array([sx, sy, sx, sy], np.float32)
