"""Image datasets (megengine.data.dataset.vision), read offline from their standard layouts."""
from .cifar import CIFAR10, CIFAR100
from .cityscapes import Cityscapes
from .coco import COCO, Objects365
from .folder import ImageFolder
from .imagenet import ImageNet
from .meta_vision import VisionDataset
from .mnist import MNIST
from .voc import PascalVOC

__all__ = ["VisionDataset", "ImageFolder", "ImageNet", "CIFAR10", "CIFAR100", "MNIST", "COCO",
           "Objects365", "PascalVOC", "Cityscapes"]
