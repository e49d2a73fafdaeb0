"""Inference post-processing shared by the dense detectors: score threshold and top-k per level,
class-wise NMS, max detections, and the map back to original-image coordinates."""
import numpy as np

import engine.functional as F
from engine import Tensor

from .box_ops import clip_boxes, flip_boxes, scale_boxes

__all__ = ["topk_candidates", "nms_and_limit", "to_original_coords", "empty_detections"]


def topk_candidates(scores, score_thresh, topk):
    """Best (location, class) pairs of one level.

    scores (L, C) numpy probabilities -> (loc (M,), cls (M,), score (M,)) with score >
    score_thresh, at most topk of them, by descending score.
    """
    flat = scores.ravel()
    keep = np.flatnonzero(flat > score_thresh)
    if keep.size > topk:
        keep = keep[np.argpartition(-flat[keep], topk - 1)[:topk]]
    keep = keep[np.argsort(-flat[keep], kind="stable")]
    num_classes = scores.shape[1]
    return keep // num_classes, (keep % num_classes).astype(np.int32), flat[keep]


def nms_and_limit(boxes, scores, labels, nms_thresh, max_detections):
    """Class-wise NMS (F.vision.batched_nms) then the best max_detections.

    boxes (M, 4), scores (M,), labels (M,) numpy -> the kept rows, by descending score.
    """
    if boxes.shape[0] == 0:
        return boxes, scores, labels
    keep = F.vision.batched_nms(Tensor(boxes.astype(np.float32)),
                                Tensor(scores.astype(np.float32)),
                                Tensor(labels.astype(np.int32)), nms_thresh,
                                max_output=max_detections).numpy()
    return boxes[keep], scores[keep], labels[keep]


def to_original_coords(boxes, image_size, scale, flipped, orig_size):
    """Boxes in the network input (resized, maybe flipped, padded) -> original image.

    image_size (h, w) before padding; scale (sy, sx) = transformed / original; orig_size
    (h0, w0). The loader resized and then flipped, so undo in reverse order: clip to the
    image, mirror back inside width w, divide by the scale, clip to the original image.
    """
    h, w = (float(v) for v in image_size)
    sy, sx = (float(v) for v in scale)
    if sy <= 0 or sx <= 0:
        raise ValueError(f"to_original_coords: scale must be positive, got {tuple(scale)}")
    out = clip_boxes(boxes, h, w)
    if flipped:
        out = flip_boxes(out, w)
    out = scale_boxes(out, 1.0 / sy, 1.0 / sx)
    return clip_boxes(out, orig_size[0], orig_size[1])


def empty_detections():
    return {"boxes": np.zeros((0, 4), np.float32), "scores": np.zeros((0,), np.float32),
            "labels": np.zeros((0,), np.int32)}
