from .fcos import FCOSHead
from .retinanet import RetinaNetHead

__all__ = ["FCOSHead", "RetinaNetHead"]
