"""FCOS (Tian et al. 2019): anchor-free one-stage detector on ResNet + FPN P3-P7."""
import numpy as np

from det.utils.comm import reduce_mean

from ..anchors import grid_points
from ..box_ops import boxes_from_ltrb
from ..fcos_targets import DEFAULT_SIZE_RANGES, FCOSTargets
from ..heads.fcos import FCOSHead
from ..losses import centerness_loss, centerness_target, focal_loss, giou_loss
from ..postprocess import topk_candidates
from .base import DenseDetector, _numpy, build_head, normaliser, split_head_section

__all__ = ["FCOS"]

_HEAD_DEFAULTS = {"num_convs": 4, "norm": "GN", "prior_prob": 0.01,
                  "center_sampling_radius": 1.5, "size_ranges": DEFAULT_SIZE_RANGES,
                  "focal_alpha": 0.25, "focal_gamma": 2.0}


class FCOS(DenseDetector):
    """FCOS with shared GN towers, per-level scales, focal / GIoU / centerness losses and center
    sampling.

    Args (besides DenseDetector's):
        head: {"num_convs": 4, "norm": "GN", "prior_prob": 0.01, "center_sampling_radius": 1.5,
            "size_ranges": ((0, 64), (64, 128), (128, 256), (256, 512), (512, 1e8)),
            "focal_alpha": 0.25, "focal_gamma": 2.0}
    Losses: loss_cls (focal, / positives), loss_box (GIoU weighted by the centerness target,
    / its sum), loss_ctr (BCE, / positives). Scores at inference: sqrt(p_cls * p_ctr).
    """

    extra_from = "p5"

    def __init__(self, num_classes, backbone=None, neck=None, head=None, test=None, **kwargs):
        # head keys are checked before the (slow to build) backbone
        name, h, extra = split_head_section(head, _HEAD_DEFAULTS, "FCOSHead", "FCOS")
        super().__init__(num_classes, backbone=backbone, neck=neck, test=test, **kwargs)
        num_levels = len(self.strides)
        if len(h["size_ranges"]) != num_levels:
            raise ValueError(f"FCOS: head.size_ranges has {len(h['size_ranges'])} entries for "
                             f"{num_levels} FPN levels (strides {self.strides})")
        self.head = build_head(name, FCOSHead, extra, num_classes=self.num_classes,
                               in_channels=self.neck.out_channels, num_levels=num_levels,
                               num_convs=h["num_convs"], norm=h["norm"],
                               prior_prob=h["prior_prob"])
        self.targets = FCOSTargets(self.strides, h["size_ranges"], h["center_sampling_radius"])
        self.focal_alpha, self.focal_gamma = h["focal_alpha"], h["focal_gamma"]

    def _points(self, shapes):
        """All locations (P, 2), their stride (P,) and the count per level."""
        pts = [grid_points(hh, ww, s) for (hh, ww), s in zip(shapes, self.strides)]
        sizes = [p.shape[0] for p in pts]
        strides = np.repeat(np.asarray(self.strides, np.float32), sizes)
        return np.concatenate(pts), strides, sizes

    def losses(self, feats, shapes, boxes, labels):
        cls, reg, ctr = self.head(feats)  # (N, P, C), (N, P, 4), (N, P)
        n, p, c = cls.shape
        points, strides, sizes = self._points(shapes)
        assigned = [self.targets(points, sizes, b, lab) for b, lab in zip(boxes, labels)]
        gt_labels = np.concatenate([a[1] for a in assigned])  # (N * P,)
        gt_ltrb = np.concatenate([a[2] for a in assigned])  # (N * P, 4)
        pos = np.flatnonzero(gt_labels >= 0)
        ctr_target = centerness_target(gt_ltrb[pos])  # (K,)
        # normalisers averaged over the ranks (detectron2's rule): the mean of the ranks'
        # gradients is then the gradient of one process over the whole batch
        num_pos, ctr_sum = reduce_mean([pos.size, ctr_target.sum()])
        # per-batch numbers as Tensors (data of the step), not Python constants: a traced
        # step's check compares its constants from call to call (engine/jit/provenance.py)
        num_pos = normaliser(max(num_pos, 1.0), cls)

        cls_target = np.zeros((n * p, c), np.float32)
        cls_target[pos, gt_labels[pos]] = 1.0
        loss_cls = focal_loss(cls.reshape(n * p, c), cls_target, self.focal_alpha,
                              self.focal_gamma) / num_pos
        if pos.size == 0:  # keep the graph (and the gradient shapes) without positives
            zero = reg.sum() * 0.0 + ctr.sum() * 0.0
            return {"loss_cls": loss_cls, "loss_box": zero, "loss_ctr": zero}

        pos_points = points[pos % p]  # (K, 2)
        pos_ltrb = gt_ltrb[pos]  # (K, 4)
        pred_ltrb = reg.reshape(n * p, 4)[pos] * strides[pos % p][:, None]  # (K, 4) pixels
        pred_boxes = (pos_points[:, [0, 1, 0, 1]] +
                      pred_ltrb * np.array([-1, -1, 1, 1], np.float32))
        loss_box = giou_loss(pred_boxes, boxes_from_ltrb(pos_points, pos_ltrb),
                             ctr_target) / normaliser(max(ctr_sum, 1e-6), cls)
        loss_ctr = centerness_loss(ctr.reshape(n * p)[pos], ctr_target) / num_pos
        return {"loss_cls": loss_cls, "loss_box": loss_box, "loss_ctr": loss_ctr}

    def predict(self, feats, shapes, data):
        return self.decode(self.head(feats), shapes, data)

    def decode(self, head_outputs, shapes, data):
        """Detections per image from the head's raw (cls, reg, ctr) outputs (Tensors or numpy:
        a dumped graph's outputs decode the same way, det/engine/export.py)."""
        cls, reg, ctr = (_numpy(o) for o in head_outputs)
        cls_prob = (1 / (1 + np.exp(-cls.astype(np.float64)))).astype(np.float32)
        ctr_prob = (1 / (1 + np.exp(-ctr.astype(np.float64)))).astype(np.float32)
        points, strides, sizes = self._points(shapes)
        bounds = np.cumsum([0] + sizes)
        t = self.test_cfg
        results = []
        for i in range(cls_prob.shape[0]):
            scores = np.sqrt(cls_prob[i] * ctr_prob[i][:, None])  # (P, C)
            out_boxes, out_scores, out_labels = [], [], []
            for lo, hi in zip(bounds[:-1], bounds[1:]):  # per level: top-k candidates
                loc, lab, sc = topk_candidates(scores[lo:hi], t["score_thresh"],
                                               t["topk_per_level"])
                loc = loc + lo
                out_boxes.append(boxes_from_ltrb(points[loc], reg[i, loc] * strides[loc, None]))
                out_scores.append(sc)
                out_labels.append(lab)
            results.append(self.finish_detections(np.concatenate(out_boxes),
                                                  np.concatenate(out_scores),
                                                  np.concatenate(out_labels), data, i))
        return results
