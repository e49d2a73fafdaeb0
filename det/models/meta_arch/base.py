"""DenseDetector: what FCOS and RetinaNet share (the model contract of det, issue #4).

    model(batch, mode="loss")    -> {"loss_cls": Tensor, "loss_box": Tensor, ...} (scalars)
    model(batch, mode="predict") -> [{"boxes": (M, 4), "scores": (M,), "labels": (M,)}] per
                                    image, numpy, boxes in original-image coordinates

`batch` comes straight from the loader (det/data); the model runs its own data_preprocessor.
"""
from collections.abc import Mapping

import numpy as np

import engine as mge
import engine.module as M
from det.data.preprocessor import PIXEL_MEAN, PIXEL_STD, DataPreprocessor

from ..backbones.resnet import ResNet
from ..necks.fpn import FPN
from ..postprocess import empty_detections, nms_and_limit, to_original_coords

__all__ = ["DenseDetector", "section", "split_head_section", "build_head"]

_MODES = ("loss", "predict")
_TEST_DEFAULTS = {"score_thresh": 0.05, "topk_per_level": 1000, "nms_thresh": 0.6,
                  "max_detections": 100}


def section(cfg, what, defaults=None):
    """A config section (dict, Mapping or None) as a fresh dict over `defaults`."""
    out = dict(defaults or {})
    if cfg is None:
        return out
    if not isinstance(cfg, Mapping):
        if hasattr(cfg, "items"):
            cfg = dict(cfg.items())
        else:
            raise TypeError(f"{what} config must be a dict, got {type(cfg).__name__}")
    out.update(cfg)
    return out


def build_part(cfg, default_cls, registry_name, what, **extra):
    """Instantiate a backbone / neck from {"name": ..., **kwargs}; the built-in class by name, any
    other name through det.registry (so user-registered parts plug in)."""
    cfg = section(cfg, what)
    name = cfg.pop("name", default_cls.__name__)
    for k, v in extra.items():
        cfg.setdefault(k, v)
    if name == default_cls.__name__:
        cls = default_cls
    else:
        import det.registry as registry

        cls = getattr(registry, registry_name).get(name)
    try:
        return cls(**cfg)
    except TypeError as e:
        raise TypeError(f"{what} {name!r}: bad config keys {sorted(cfg)}: {e}") from None


def split_head_section(head, defaults, default_name, who):
    """The head section as (head name, the detector's keys over `defaults`, the other keys).

    head.name (default `default_name`) picks the head module from det.registry.HEADS; keys
    outside `defaults` are an error for the built-in head and the constructor arguments of a
    user's head. Checked before the (slow to build) backbone."""
    h = section(head, "head", defaults)
    name = h.pop("name", default_name)
    extra = {k: h.pop(k) for k in sorted(set(h) - set(defaults))}
    if extra and name == default_name:
        raise KeyError(f"{who}: unknown head keys {sorted(extra)}; known: {sorted(defaults)} "
                       f"(and 'name', a head registered in det.registry.HEADS)")
    if name != default_name:
        from det.registry import HEADS, check_registered

        check_registered(HEADS, name, "model.head")
    return name, h, extra


def build_head(name, default_cls, extra, **args):
    """default_cls(**args), or the HEADS entry `name` with `extra` and those of `args`
    (num_classes, in_channels, num_convs, ...) its constructor takes. A user's head returns
    what the built-in one does, so the detector's losses and inference work unchanged."""
    if name == default_cls.__name__:
        return default_cls(**args)
    from det.registry import HEADS, build_from_config

    return build_from_config(HEADS, {"name": name, **extra}, "model.head", context=args)


def _check_test_cfg(t, who):
    unknown = sorted(set(t) - set(_TEST_DEFAULTS))
    if unknown:
        raise KeyError(f"{who}: unknown test keys {unknown}; known: {sorted(_TEST_DEFAULTS)}")
    for key in ("topk_per_level", "max_detections"):
        if isinstance(t[key], bool) or not isinstance(t[key], (int, np.integer)) or t[key] < 1:
            raise ValueError(f"{who}: test.{key} must be a positive int, got {t[key]!r}")
    if not 0 <= t["score_thresh"] < 1 or not 0 < t["nms_thresh"] <= 1:
        raise ValueError(f"{who}: test.score_thresh must be in [0, 1) and test.nms_thresh in "
                         f"(0, 1], got {t['score_thresh']!r} and {t['nms_thresh']!r}")
    return t


class DenseDetector(M.Module):
    """Backbone -> FPN -> dense head, with the data preprocessor in front.

    Args:
        num_classes: foreground classes (labels 0..num_classes-1).
        backbone: {"name": "ResNet", "depth": 50, "width": 64, "norm": "FrozenBN",
            "freeze_at": 0, "pretrained": None}.
        neck: {"name": "FPN", "out_channels": 256, "num_extra_levels": 2, "extra_from": ...};
            in_channels / in_strides come from the backbone.
        test: {"score_thresh", "topk_per_level", "nms_thresh", "max_detections"}.
        pixel_mean, pixel_std: RGB normalisation of the data preprocessor.
        device: device of the preprocessed batch (None: the default device).
    """

    extra_from = "p5"

    def __init__(self, num_classes, backbone=None, neck=None, test=None,
                 pixel_mean=PIXEL_MEAN, pixel_std=PIXEL_STD, device=None):
        super().__init__()
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
                or num_classes <= 0:
            raise ValueError(f"{type(self).__name__}: num_classes must be a positive int, got "
                             f"{num_classes!r}")
        self.num_classes = int(num_classes)
        self.backbone = build_part(backbone, ResNet, "BACKBONES", "backbone")
        self.neck = build_part(neck, FPN, "NECKS", "neck",
                               in_channels=tuple(self.backbone.out_channels),
                               in_strides=tuple(self.backbone.strides),
                               extra_from=self.extra_from)
        self.test_cfg = _check_test_cfg(section(test, "test", _TEST_DEFAULTS),
                                        type(self).__name__)
        self.data_preprocessor = DataPreprocessor(pixel_mean, pixel_std, device)

    @property
    def strides(self):
        return self.neck.strides

    def forward(self, batch, mode="loss"):
        if mode not in _MODES:
            raise ValueError(f"{type(self).__name__}: mode must be one of {_MODES}, got {mode!r}")
        if mode == "predict" and "image_sizes" not in batch:
            raise KeyError(f"{type(self).__name__}(mode='predict'): batch has no 'image_sizes' "
                           f"(the (N, 2) sizes before padding that detections are clipped to)")
        data = self.data_preprocessor(batch, training=(mode == "loss"))
        images = data["images"]
        feats = self.neck(self.backbone(images))
        shapes = [tuple(f.shape[2:]) for f in feats]
        if mode == "loss":
            boxes, labels = self._gt(data)
            return self.losses(feats, shapes, boxes, labels)
        return self.predict(feats, shapes, data)

    def network(self, images):
        """The part a deployment runs as a graph (det/engine/export.py): preprocessed (N, 3, Hp,
        Wp) images to the head's raw outputs, and the feature-map shapes decode() needs."""
        feats = self.neck(self.backbone(images))
        return self.head(feats), [tuple(f.shape[2:]) for f in feats]

    def _gt(self, data):
        """Ground truth as numpy lists, checked: boxes (K, 4) with x2 > x1, y2 > y1, labels in
        [0, num_classes)."""
        for key in ("boxes", "labels"):
            if key not in data:
                raise KeyError(f"{type(self).__name__}(mode='loss'): batch has no {key!r}")
        boxes, labels = [], []
        for i, (b, lab) in enumerate(zip(data["boxes"], data["labels"])):
            b = np.asarray(b.numpy() if hasattr(b, "numpy") else b, np.float32).reshape(-1, 4)
            lab = np.asarray(lab.numpy() if hasattr(lab, "numpy") else lab).reshape(-1)
            if lab.shape[0] != b.shape[0]:
                raise ValueError(f"image {i} of the batch: {b.shape[0]} boxes but "
                                 f"{lab.shape[0]} labels")
            bad = (b[:, 2] <= b[:, 0]) | (b[:, 3] <= b[:, 1])
            if bad.any():
                raise ValueError(f"image {i} of the batch: boxes of zero or negative size "
                                 f"{b[bad].tolist()} (x1, y1, x2, y2)")
            if lab.size and (lab.min() < 0 or lab.max() >= self.num_classes):
                raise ValueError(f"image {i} of the batch: labels {lab.tolist()} outside "
                                 f"[0, {self.num_classes})")
            boxes.append(b)
            labels.append(lab.astype(np.int32))
        if len(boxes) != data["images"].shape[0]:
            raise ValueError(f"batch has {data['images'].shape[0]} images but {len(boxes)} box "
                             f"lists")
        return boxes, labels

    def finish_detections(self, boxes, scores, labels, data, i):
        """NMS, max detections and original coordinates for image i (numpy candidates)."""
        t = self.test_cfg
        if boxes.shape[0] == 0:
            return empty_detections()
        boxes, scores, labels = nms_and_limit(boxes, scores, labels, t["nms_thresh"],
                                              t["max_detections"])
        size = np.asarray(data["image_sizes"][i])
        scale = np.asarray(data["scales"][i]) if "scales" in data else (1.0, 1.0)
        flipped = bool(data["flipped"][i]) if "flipped" in data else False
        orig = np.asarray(data["orig_sizes"][i]) if "orig_sizes" in data else size
        boxes = to_original_coords(boxes, size, scale, flipped, orig)
        return {"boxes": boxes.astype(np.float32), "scores": scores.astype(np.float32),
                "labels": labels.astype(np.int32)}

    def losses(self, feats, shapes, boxes, labels):
        raise NotImplementedError(f"{type(self).__name__} must define losses()")

    def predict(self, feats, shapes, data):
        raise NotImplementedError(f"{type(self).__name__} must define predict()")

    def decode(self, head_outputs, shapes, data):
        """Detections per image from the head's raw outputs (predict() is decode(head(feats)))."""
        raise NotImplementedError(f"{type(self).__name__} must define decode()")


def normaliser(value, like):
    """A loss normaliser computed on the host (the batch's positive count) as a float32 Tensor
    on `like`'s device: data of this step, where a Python number would be a constant of a
    traced step."""
    return mge.tensor(np.float32(value), device=like.device)


def _numpy(x):
    """A head output as numpy (a Tensor of the Python model, an array of a loaded graph)."""
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)
