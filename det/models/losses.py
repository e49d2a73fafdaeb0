"""Detection losses on engine Tensors; each returns the *sum* over its elements (the meta-archs
divide by their own normaliser: positives, or the centerness weights)."""
import numpy as np

import engine.functional as F
from engine import Tensor

__all__ = ["focal_loss", "giou_loss", "centerness_loss", "smooth_l1_loss", "centerness_target"]


def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    """Sum of the sigmoid focal loss of (..., C) logits against (..., C) 0/1 targets."""
    if not isinstance(targets, Tensor):
        targets = Tensor(np.asarray(targets, np.float32), device=logits.device)
    return F.nn.sigmoid_focal_loss(logits, targets, alpha=alpha, gamma=gamma, reduction="sum")


def giou_loss(pred_boxes, target_boxes, weights=None):
    """sum_i w_i (1 - GIoU(pred_i, target_i)) over (K, 4) box pairs; w defaults to 1."""
    target = target_boxes if isinstance(target_boxes, Tensor) else Tensor(
        np.asarray(target_boxes, np.float32), device=pred_boxes.device)
    loss = 1.0 - F.vision.giou(pred_boxes, target)  # (K,)
    if weights is not None:
        loss = loss * np.asarray(weights, np.float32)
    return loss.sum()


def centerness_loss(logits, targets):
    """Sum of the binary cross entropy of (K,) centerness logits against (K,) targets in [0, 1]."""
    return F.nn.binary_cross_entropy(logits, np.asarray(targets, np.float32), with_logits=True,
                                     reduction="sum")


def smooth_l1_loss(pred, target, beta=0.0):
    """Sum of the smooth L1 (Huber / beta) loss; beta=0 is plain L1 (RetinaNet's default)."""
    return F.nn.smooth_l1_loss(pred, np.asarray(target, np.float32), beta=beta, reduction="sum")


def centerness_target(ltrb):
    """FCOS centerness of (K, 4) positive (l, t, r, b) distances -> (K,):
    sqrt(min(l, r) / max(l, r) * min(t, b) / max(t, b))."""
    ltrb = np.asarray(ltrb, np.float32)
    lr, tb = ltrb[:, 0::2], ltrb[:, 1::2]
    ratio = (lr.min(1) / np.maximum(lr.max(1), 1e-12)) * (tb.min(1) / np.maximum(tb.max(1), 1e-12))
    return np.sqrt(np.clip(ratio, 0, 1)).astype(np.float32)
