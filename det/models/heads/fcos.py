"""FCOS head: shared classification and box towers over all FPN levels."""
import numpy as np

import engine.functional as F
import engine.module as M
from engine import Parameter

from .common import conv_tower, flatten_levels, head_conv, prior_bias

__all__ = ["FCOSHead"]


class FCOSHead(M.Module):
    """Per level: class logits, (l, t, r, b) distances in units of the level's stride, and a
    centerness logit (predicted from the box tower, the "centerness on reg" variant).

    Args:
        num_classes, in_channels: classes and FPN channels.
        num_levels: FPN levels (one learnable scale per level multiplies the box output, since
            the towers are shared but each level regresses a different size range).
        num_convs: convs per tower (FCOS: 4); norm: "GN" or None; prior_prob: initial class
            probability.
    Returns (N, P, num_classes) logits, (N, P, 4) non-negative distances / stride and (N, P)
    centerness logits, with P all locations of all levels (det.models.anchors order).
    """

    def __init__(self, num_classes, in_channels=256, num_levels=5, num_convs=4, norm="GN",
                 prior_prob=0.01):
        super().__init__()
        if not isinstance(num_classes, int) or num_classes <= 0:
            raise ValueError(f"FCOSHead: num_classes must be a positive int, got {num_classes!r}")
        self.num_classes = num_classes
        self.cls_tower = conv_tower(in_channels, num_convs, norm)
        self.bbox_tower = conv_tower(in_channels, num_convs, norm)
        self.cls_logits = head_conv(in_channels, num_classes, prior_bias(prior_prob))
        self.bbox_pred = head_conv(in_channels, 4)
        self.centerness = head_conv(in_channels, 1)
        self.scales = [Parameter(np.ones((1,), np.float32)) for _ in range(num_levels)]

    def forward(self, feats):
        if len(feats) != len(self.scales):
            raise ValueError(f"FCOSHead: built for {len(self.scales)} levels, got {len(feats)}")
        cls, reg, ctr = [], [], []
        for x, scale in zip(feats, self.scales):
            c = self.cls_tower(x)
            b = self.bbox_tower(x)
            cls.append(self.cls_logits(c))
            # ReLU keeps the distances non-negative; the stride is applied by the meta-arch
            reg.append(F.relu(self.bbox_pred(b) * scale.reshape(1, 1, 1, 1)))
            ctr.append(self.centerness(b))
        n = feats[0].shape[0]
        return (flatten_levels(cls, self.num_classes), flatten_levels(reg, 4),
                flatten_levels(ctr, 1).reshape(n, -1))
