"""engine.module (M): Module, Sequential, the layers and `init` (MegEngine's names and
semantics)."""
from . import init
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from .conv_special import DeformableConv2d, LocalConv2d, RegionRestrictedConv  # noqa: F401
from .dropout import Dropout
from .linear import Embedding, Identity, Linear
from .module import Module
from .normalization import GroupNorm, LayerNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .sequential import Sequential
from .sliding_window import SlidingWindow, SlidingWindowTranspose  # noqa: F401

__all__ = [
    "init", "Module", "Sequential", "Linear", "Identity", "Embedding", "Conv2d",
    "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "ReLU",
    "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softmax", "Dropout", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d",
]
__all__ += ["Conv1d", "Conv3d", "ConvTranspose3d", "DeformableConv2d", "LocalConv2d",
            "RegionRestrictedConv", "SlidingWindow", "SlidingWindowTranspose"]
