"""Activation layers: thin wrappers over engine.functional."""
import engine.functional as F

from .module import Module

__all__ = ["ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Softmax"]


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope=0.01, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def _module_info_string(self):
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """Exact GELU, x * Phi(x)."""

    def forward(self, x):
        return F.gelu(x)


class SiLU(Module):
    """x * sigmoid(x)."""

    def forward(self, x):
        return F.silu(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Softmax(Module):
    """Softmax along `axis` (None: MegEngine's default, axis 0 for 0-/1-D input, else 1)."""

    def __init__(self, axis=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def forward(self, x):
        return F.softmax(x, self.axis)

    def _module_info_string(self):
        return f"axis={self.axis}"
