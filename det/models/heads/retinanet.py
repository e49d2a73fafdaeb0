"""RetinaNet head: classification and box-regression subnets shared over all FPN levels."""
import engine.module as M

from .common import conv_tower, flatten_levels, head_conv, prior_bias

__all__ = ["RetinaNetHead"]


class RetinaNetHead(M.Module):
    """Per level and anchor: class logits and box deltas (det.models.box_coder).

    Args:
        num_classes, in_channels, num_anchors (per location); num_convs per subnet (4);
        norm: None (the paper) or "GN"; prior_prob: initial class probability.
    Returns (N, R, num_classes) logits and (N, R, 4) deltas, R = all anchors of all levels.
    """

    def __init__(self, num_classes, in_channels=256, num_anchors=9, num_convs=4, norm=None,
                 prior_prob=0.01):
        super().__init__()
        if not isinstance(num_classes, int) or num_classes <= 0:
            raise ValueError(f"RetinaNetHead: num_classes must be a positive int, got "
                             f"{num_classes!r}")
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        self.cls_subnet = conv_tower(in_channels, num_convs, norm)
        self.bbox_subnet = conv_tower(in_channels, num_convs, norm)
        self.cls_score = head_conv(in_channels, num_anchors * num_classes, prior_bias(prior_prob))
        self.bbox_pred = head_conv(in_channels, num_anchors * 4)

    def forward(self, feats):
        cls = [self.cls_score(self.cls_subnet(x)) for x in feats]
        reg = [self.bbox_pred(self.bbox_subnet(x)) for x in feats]
        return flatten_levels(cls, self.num_classes), flatten_levels(reg, 4)
