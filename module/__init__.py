"""engine.module (M): Module, Sequential, the layers and `init` (MegEngine's names and
semantics)."""
from . import init
from .activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax
from .batch_matmul_activation import BatchMatMulActivation
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d
from .conv_bn import (
    ConvBn2d,
    ConvBnRelu2d,
    ConvRelu2d,
    ConvTransposeBn2d,
    ConvTransposeBnRelu2d,
    ConvTransposeRelu2d,
)
from .conv_special import DeformableConv2d, LocalConv2d, RegionRestrictedConv
from .deformable_psroi_pooling import DeformablePSROIPooling
from .dropout import Dropout
from .linear import Embedding, Identity, Linear, LinearRelu
from .linear_bn import LinearBn1d, LinearBnRelu1d
from .module import Module
from .normalization import GroupNorm, LayerNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .quant_dequant import DequantStub, QuantStub
from .rnn import LSTM, RNN, LSTMCell, RNNCell
from .sequential import Sequential
from .sliding_window import SlidingWindow, SlidingWindowTranspose  # noqa: F401

__all__ = [
    "init", "Module", "Sequential", "Linear", "Identity", "Embedding", "Conv2d",
    "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "ReLU",
    "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softmax", "Dropout", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d",
    "RNNCell", "LSTMCell", "RNN", "LSTM",
    "BatchMatMulActivation", "ConvBn2d", "ConvBnRelu2d", "ConvRelu2d", "ConvTransposeBn2d",
    "ConvTransposeBnRelu2d", "ConvTransposeRelu2d", "LinearRelu", "LinearBn1d", "LinearBnRelu1d",
    "QuantStub", "DequantStub",
]
__all__ += ["Conv1d", "Conv3d", "ConvTranspose3d", "DeformableConv2d", "LocalConv2d",
            "RegionRestrictedConv", "SlidingWindow", "SlidingWindowTranspose"]
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
__all__ += ["DeformablePSROIPooling"]
