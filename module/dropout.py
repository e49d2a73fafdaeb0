"""Dropout."""
import engine.functional as F

from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """In training, zero each element with probability drop_prob and scale the rest by
    1 / (1 - drop_prob); in eval mode, the identity."""

    def __init__(self, drop_prob=0.0, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= drop_prob < 1:
            raise ValueError(f"Dropout: drop_prob must be in [0, 1), got {drop_prob}")
        self.drop_prob = drop_prob

    def forward(self, inputs):
        if self.training and self.drop_prob > 0:
            return F.nn.dropout(inputs, self.drop_prob, training=True)
        return inputs

    def _module_info_string(self):
        return f"drop_prob={self.drop_prob}"
