"""det.models: ResNet backbones, FPN, FCOS and RetinaNet (issue #4, point 6).

Importing det.models registers MODELS "FCOS" and "RetinaNet", BACKBONES "ResNet", NECKS "FPN"
and HEADS "FCOSHead", "RetinaNetHead" in det.registry (the model code itself does not depend
on it). Config defaults: det.models.defaults.
"""
from det.registry import BACKBONES, HEADS, MODELS, NECKS

from .backbones import ResNet
from .heads import FCOSHead, RetinaNetHead
from .meta_arch import FCOS, DenseDetector, RetinaNet
from .necks import FPN

__all__ = ["ResNet", "FPN", "FCOSHead", "RetinaNetHead", "DenseDetector", "FCOS", "RetinaNet"]


for _registry, _name, _cls in ((MODELS, "FCOS", FCOS), (MODELS, "RetinaNet", RetinaNet),
                               (BACKBONES, "ResNet", ResNet), (NECKS, "FPN", FPN),
                               (HEADS, "FCOSHead", FCOSHead),
                               (HEADS, "RetinaNetHead", RetinaNetHead)):
    _registry.register(_name)(_cls)
