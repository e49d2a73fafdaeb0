from .base import DenseDetector
from .fcos import FCOS
from .retinanet import RetinaNet

__all__ = ["DenseDetector", "FCOS", "RetinaNet"]
