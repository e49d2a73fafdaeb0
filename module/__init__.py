"""engine.module (M): Module, Sequential, the layers and `init` (MegEngine's names and
semantics)."""
from . import init
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d, ConvTranspose2d
from .deformable_psroi_pooling import DeformablePSROIPooling
from .dropout import Dropout
from .linear import Embedding, Identity, Linear
from .module import Module
from .normalization import GroupNorm, LayerNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .sequential import Sequential

__all__ = [
    "init", "Module", "Sequential", "Linear", "Identity", "Embedding", "Conv2d",
    "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "ReLU",
    "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softmax", "Dropout", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d",
]
__all__ += ["DeformablePSROIPooling"]
