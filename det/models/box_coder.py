"""Box2BoxTransform: anchors <-> regression deltas (dx, dy, dw, dh), R-CNN parametrisation.

    dx = wx * (gx - ax) / aw    dy = wy * (gy - ay) / ah
    dw = ww * log(gw / aw)      dh = wh * log(gh / ah)

with (x, y) box centres and (w, h) sizes. encode works on numpy (targets); decode works on numpy
or on engine Tensors (so a GIoU loss can back-propagate through decoded boxes).
"""
import math

import numpy as np

import engine.functional as F
from engine import Tensor

__all__ = ["BoxCoder"]

# dw, dh are clamped before exp so a wild prediction cannot overflow (detectron2's bound: boxes
# at most 1000 / 16 times their anchor).
_DEFAULT_CLAMP = math.log(1000.0 / 16)


def _centre_size(boxes):
    w = boxes[..., 2] - boxes[..., 0]
    h = boxes[..., 3] - boxes[..., 1]
    return boxes[..., 0] + 0.5 * w, boxes[..., 1] + 0.5 * h, w, h


class BoxCoder:
    """Args: weights (wx, wy, ww, wh) (RetinaNet: all 1); scale_clamp bounds dw, dh in decode."""

    def __init__(self, weights=(1.0, 1.0, 1.0, 1.0), scale_clamp=_DEFAULT_CLAMP):
        if len(weights) != 4 or min(weights) <= 0:
            raise ValueError(f"BoxCoder: weights must be four positive numbers, got {weights!r}")
        self.weights = tuple(float(w) for w in weights)
        self.scale_clamp = float(scale_clamp)

    def encode(self, anchors, boxes):
        """(K, 4) anchors and matched (K, 4) target boxes (numpy) -> (K, 4) float32 deltas."""
        anchors = np.asarray(anchors, np.float64)
        boxes = np.asarray(boxes, np.float64)
        if anchors.shape != boxes.shape or anchors.shape[-1:] != (4,):
            raise ValueError(f"BoxCoder.encode: anchors {anchors.shape} and boxes {boxes.shape} "
                             f"must have one shape (K, 4)")
        ax, ay, aw, ah = _centre_size(anchors)
        gx, gy, gw, gh = _centre_size(boxes)
        if (aw <= 0).any() or (ah <= 0).any() or (gw <= 0).any() or (gh <= 0).any():
            raise ValueError("BoxCoder.encode: anchors and boxes must have positive width and "
                             "height")
        wx, wy, ww, wh = self.weights
        deltas = np.stack([wx * (gx - ax) / aw, wy * (gy - ay) / ah,
                           ww * np.log(gw / aw), wh * np.log(gh / ah)], axis=-1)
        return deltas.astype(np.float32)

    def decode(self, deltas, anchors):
        """(K, 4) deltas (numpy or Tensor) applied to (K, 4) numpy anchors -> (K, 4) boxes of the
        deltas' type."""
        anchors = np.asarray(anchors, np.float32)
        if tuple(deltas.shape) != anchors.shape or anchors.shape[-1:] != (4,):
            raise ValueError(f"BoxCoder.decode: deltas {tuple(deltas.shape)} and anchors "
                             f"{anchors.shape} must have one shape (K, 4)")
        is_tensor = isinstance(deltas, Tensor)
        exp = F.exp if is_tensor else np.exp
        clip = F.clip if is_tensor else np.clip
        stack = F.stack if is_tensor else np.stack
        ax, ay, aw, ah = (v[:, None] for v in _centre_size(anchors))  # (K, 1) each
        wx, wy, ww, wh = self.weights
        dxy = deltas[:, 0:2] / np.array([wx, wy], np.float32)  # (K, 2)
        dwh = clip(deltas[:, 2:4] / np.array([ww, wh], np.float32), None, self.scale_clamp)
        cxy = dxy * np.concatenate([aw, ah], 1) + np.concatenate([ax, ay], 1)
        half = 0.5 * exp(dwh) * np.concatenate([aw, ah], 1)  # (K, 2)
        boxes = stack([cxy[:, 0] - half[:, 0], cxy[:, 1] - half[:, 1],
                       cxy[:, 0] + half[:, 0], cxy[:, 1] + half[:, 1]], 1)
        return boxes if is_tensor else boxes.astype(np.float32)
