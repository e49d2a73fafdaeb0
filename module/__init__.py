"""engine.module (M): Module, Sequential, the layers and `init` (MegEngine's names and
semantics)."""
from . import init
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d, ConvTranspose2d
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
from .activation import PReLU  # noqa: E402
from .attention import MultiHeadAttention  # noqa: E402
from .elemwise import Elemwise  # noqa: E402
from .layout import Concat, Pad, PixelShuffle  # noqa: E402
from .normalization import GeneralNorm, InstanceNorm, LocalResponseNorm  # noqa: E402
from .pooling import AdaptiveMaxPool2d  # noqa: E402
from .sync_batchnorm import SyncBatchNorm  # noqa: E402

__all__ += ["PReLU", "MultiHeadAttention", "Elemwise", "Concat", "Pad", "PixelShuffle",
            "GeneralNorm", "InstanceNorm", "LocalResponseNorm", "AdaptiveMaxPool2d",
            "SyncBatchNorm"]
