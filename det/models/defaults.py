"""Config defaults for cfg.model (dicts for MODELS.build); det/config's built-in configs use them.

Every key a model accepts appears here with its default, so this file documents the model
section of a config. Copy before editing: `cfg = fcos_r18_shapes(num_classes=3)` returns a fresh
dict each call.
"""
import copy

from .fcos_targets import INF

__all__ = ["fcos_r18_shapes", "fcos_r50", "retinanet_r50", "retinanet_r18_shapes", "TEST"]

TEST = {"score_thresh": 0.05, "topk_per_level": 1000, "nms_thresh": 0.6, "max_detections": 100}

_FCOS_HEAD = {"num_convs": 4, "norm": "GN", "prior_prob": 0.01, "center_sampling_radius": 1.5,
              "size_ranges": ((0, 64), (64, 128), (128, 256), (256, 512), (512, INF)),
              "focal_alpha": 0.25, "focal_gamma": 2.0}

_RETINA_HEAD = {"num_convs": 4, "norm": None, "prior_prob": 0.01,
                "anchor_sizes": (32, 64, 128, 256, 512),
                "anchor_scales": (1.0, 2 ** (1 / 3), 2 ** (2 / 3)),
                "anchor_ratios": (0.5, 1.0, 2.0), "iou_thresholds": (0.4, 0.5),
                "allow_low_quality": True, "box_weights": (1.0, 1.0, 1.0, 1.0),
                "box_loss": "smooth_l1", "smooth_l1_beta": 0.1, "focal_alpha": 0.25,
                "focal_gamma": 2.0}


def _model(name, num_classes, backbone, neck, head, test):
    return copy.deepcopy({"name": name, "num_classes": num_classes, "backbone": backbone,
                          "neck": neck, "head": head, "test": test})


def fcos_r50(num_classes=80):
    """FCOS-R50-FPN as in the paper (ImageNet-pretrained, frozen BN and stem + layer1)."""
    return _model("FCOS", num_classes,
                  {"name": "ResNet", "depth": 50, "width": 64, "norm": "FrozenBN",
                   "freeze_at": 2, "pretrained": None},
                  {"name": "FPN", "out_channels": 256, "num_extra_levels": 2},
                  dict(_FCOS_HEAD), dict(TEST))


def fcos_r18_shapes(num_classes=3):
    """A narrow FCOS-R18 that trains from scratch on 128 px images on a 2-core CPU: half-width
    ResNet-18 with trained BN (about 0.8 s per batch of 16 there, twice as fast as width 64),
    64-channel FPN and towers of 2 convs. The paper's size ranges are kept: on 128 px images
    P3 (a 16 x 16 grid) takes nearly every object, which gives each object many positives."""
    return _model("FCOS", num_classes,
                  {"name": "ResNet", "depth": 18, "width": 32, "norm": "BN", "freeze_at": 0,
                   "pretrained": None},
                  {"name": "FPN", "out_channels": 64, "num_extra_levels": 2},
                  dict(_FCOS_HEAD, num_convs=2), dict(TEST))


def retinanet_r50(num_classes=80):
    """RetinaNet-R50-FPN as in detectron2 (P6 from C5, 9 anchors, NMS 0.5)."""
    return _model("RetinaNet", num_classes,
                  {"name": "ResNet", "depth": 50, "width": 64, "norm": "FrozenBN",
                   "freeze_at": 2, "pretrained": None},
                  {"name": "FPN", "out_channels": 256, "num_extra_levels": 2},
                  dict(_RETINA_HEAD), dict(TEST, nms_thresh=0.5))


def retinanet_r18_shapes(num_classes=3):
    """Narrow RetinaNet-R18 for 128 px images: anchor sizes 8..128 (a quarter of COCO's)."""
    return _model("RetinaNet", num_classes,
                  {"name": "ResNet", "depth": 18, "width": 32, "norm": "BN", "freeze_at": 0,
                   "pretrained": None},
                  {"name": "FPN", "out_channels": 64, "num_extra_levels": 2},
                  dict(_RETINA_HEAD, num_convs=2, anchor_sizes=(8, 16, 32, 64, 128)),
                  dict(TEST, nms_thresh=0.5))
