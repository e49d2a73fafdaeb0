"""RetinaNet (Lin et al. 2017): anchors, IoU matching, focal loss and smooth L1 / GIoU."""
import numpy as np

import engine.functional as F
from det.utils.comm import reduce_mean
from engine import Tensor

from ..anchors import AnchorGenerator
from ..box_coder import BoxCoder
from ..heads.retinanet import RetinaNetHead
from ..losses import focal_loss, giou_loss, smooth_l1_loss
from ..postprocess import topk_candidates
from .base import DenseDetector, _numpy, build_head, normaliser, section, split_head_section

__all__ = ["RetinaNet", "match_anchors"]

_HEAD_DEFAULTS = {
    "num_convs": 4, "norm": None, "prior_prob": 0.01,
    "anchor_sizes": (32, 64, 128, 256, 512), "anchor_scales": (1.0, 2 ** (1 / 3), 2 ** (2 / 3)),
    "anchor_ratios": (0.5, 1.0, 2.0), "iou_thresholds": (0.4, 0.5), "allow_low_quality": True,
    "box_weights": (1.0, 1.0, 1.0, 1.0), "box_loss": "smooth_l1", "smooth_l1_beta": 0.1,
    "focal_alpha": 0.25, "focal_gamma": 2.0,
}
_BOX_LOSSES = ("smooth_l1", "giou")


def match_anchors(iou, bg_thresh=0.4, fg_thresh=0.5, allow_low_quality=True):
    """Assign anchors from a (K, R) gt x anchor IoU matrix.

    Returns matched (R,) gt index and state (R,): 1 foreground (IoU >= fg_thresh), 0 background
    (IoU < bg_thresh), -1 ignored (in between). allow_low_quality: an anchor with a gt's highest
    IoU (ties included) is foreground too, so every gt gets at least one anchor.
    """
    num_anchors = iou.shape[1]
    if iou.shape[0] == 0:
        return np.zeros(num_anchors, np.int64), np.zeros(num_anchors, np.int8)
    matched = iou.argmax(axis=0)  # (R,)
    best = iou.max(axis=0)
    state = np.full(num_anchors, -1, np.int8)
    state[best < bg_thresh] = 0
    state[best >= fg_thresh] = 1
    if allow_low_quality:
        per_gt = iou.max(axis=1, keepdims=True)  # (K, 1)
        low = ((iou == per_gt) & (per_gt > 0)).any(axis=0)
        state[low] = 1
    return matched, state


class RetinaNet(DenseDetector):
    """RetinaNet: FPN P3-P7 (P6 from C5), 9 anchors per location.

    Args (besides DenseDetector's):
        head: {"num_convs": 4, "norm": None, "prior_prob": 0.01, "anchor_sizes": (32, ..., 512),
            "anchor_scales": (1, 2^(1/3), 2^(2/3)), "anchor_ratios": (0.5, 1, 2),
            "iou_thresholds": (0.4, 0.5), "allow_low_quality": True,
            "box_weights": (1, 1, 1, 1), "box_loss": "smooth_l1" | "giou",
            "smooth_l1_beta": 0.1, "focal_alpha": 0.25, "focal_gamma": 2.0}
    Losses: loss_cls (focal over foreground + background anchors) and loss_box, both divided by
    the number of foreground anchors.
    """

    extra_from = "c5"

    def __init__(self, num_classes, backbone=None, neck=None, head=None, test=None, **kwargs):
        test = section(test, "test", {"nms_thresh": 0.5})
        # head keys are checked before the (slow to build) backbone
        name, h, extra = split_head_section(head, _HEAD_DEFAULTS, "RetinaNetHead", "RetinaNet")
        if h["box_loss"] not in _BOX_LOSSES:
            raise ValueError(f"RetinaNet: head.box_loss must be one of {_BOX_LOSSES}, got "
                             f"{h['box_loss']!r}")
        super().__init__(num_classes, backbone=backbone, neck=neck, test=test, **kwargs)
        if len(h["anchor_sizes"]) != len(self.strides):
            raise ValueError(f"RetinaNet: {len(h['anchor_sizes'])} anchor_sizes for "
                             f"{len(self.strides)} FPN levels (strides {self.strides})")
        self.anchor_generator = AnchorGenerator(h["anchor_sizes"], h["anchor_scales"],
                                                h["anchor_ratios"])
        self.box_coder = BoxCoder(h["box_weights"])
        self.head = build_head(name, RetinaNetHead, extra, num_classes=self.num_classes,
                               in_channels=self.neck.out_channels,
                               num_anchors=self.anchor_generator.num_anchors,
                               num_convs=h["num_convs"], norm=h["norm"],
                               prior_prob=h["prior_prob"])
        self.bg_thresh, self.fg_thresh = h["iou_thresholds"]
        self.allow_low_quality = h["allow_low_quality"]
        self.box_loss, self.beta = h["box_loss"], h["smooth_l1_beta"]
        self.focal_alpha, self.focal_gamma = h["focal_alpha"], h["focal_gamma"]

    def _assign(self, anchors, boxes, labels):
        """(R,) class per anchor (-1 background, -2 ignored) and (R,) matched gt index."""
        if boxes.shape[0] == 0:
            return np.full(anchors.shape[0], -1, np.int32), np.zeros(anchors.shape[0], np.int64)
        iou = F.vision.box_iou(Tensor(boxes), Tensor(anchors)).numpy()  # (K, R)
        matched, state = match_anchors(iou, self.bg_thresh, self.fg_thresh,
                                       self.allow_low_quality)
        cls = np.where(state == 1, labels[matched], np.where(state == 0, -1, -2))
        return cls.astype(np.int32), matched

    def losses(self, feats, shapes, boxes, labels):
        cls, reg = self.head(feats)  # (N, R, C), (N, R, 4)
        n, r, c = cls.shape
        anchors = np.concatenate(self.anchor_generator(shapes, self.strides))  # (R, 4)
        gt_cls, gt_boxes = [], []
        for b, lab in zip(boxes, labels):
            a_cls, matched = self._assign(anchors, b, lab)
            gt_cls.append(a_cls)
            gt_boxes.append(b[matched] if b.shape[0] else np.zeros((r, 4), np.float32))
        gt_cls = np.concatenate(gt_cls)  # (N * R,)
        gt_boxes = np.concatenate(gt_boxes)  # (N * R, 4)
        fg = np.flatnonzero(gt_cls >= 0)
        valid = np.flatnonzero(gt_cls >= -1)
        # averaged over the ranks, so that the ranks' mean gradient is one process's gradient
        num_fg = normaliser(max(reduce_mean([fg.size])[0], 1.0), cls)

        cls_target = np.zeros((n * r, c), np.float32)
        cls_target[fg, gt_cls[fg]] = 1.0
        loss_cls = focal_loss(cls.reshape(n * r, c)[valid], cls_target[valid], self.focal_alpha,
                              self.focal_gamma) / num_fg
        if fg.size == 0:
            return {"loss_cls": loss_cls, "loss_box": reg.sum() * 0.0}
        pred = reg.reshape(n * r, 4)[fg]  # (F, 4)
        fg_anchors = anchors[fg % r]
        if self.box_loss == "giou":
            loss_box = giou_loss(self.box_coder.decode(pred, fg_anchors), gt_boxes[fg])
        else:
            target = self.box_coder.encode(fg_anchors, gt_boxes[fg])
            loss_box = smooth_l1_loss(pred, target, self.beta)
        return {"loss_cls": loss_cls, "loss_box": loss_box / num_fg}

    def predict(self, feats, shapes, data):
        return self.decode(self.head(feats), shapes, data)

    def decode(self, head_outputs, shapes, data):
        """Detections per image from the head's raw (cls, reg) outputs (Tensors or numpy)."""
        cls, reg = (_numpy(o) for o in head_outputs)
        cls_prob = (1 / (1 + np.exp(-cls.astype(np.float64)))).astype(np.float32)
        anchors = self.anchor_generator(shapes, self.strides)
        bounds = np.cumsum([0] + [a.shape[0] for a in anchors])
        t = self.test_cfg
        results = []
        for i in range(cls_prob.shape[0]):
            out_boxes, out_scores, out_labels = [], [], []
            for level, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
                loc, lab, sc = topk_candidates(cls_prob[i, lo:hi], t["score_thresh"],
                                               t["topk_per_level"])
                out_boxes.append(self.box_coder.decode(reg[i, lo + loc], anchors[level][loc]))
                out_scores.append(sc)
                out_labels.append(lab)
            results.append(self.finish_detections(np.concatenate(out_boxes),
                                                  np.concatenate(out_scores),
                                                  np.concatenate(out_labels), data, i))
        return results
