"""Dropout."""
import engine.functional as F

from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Randomly zeroes elements in training mode (inverted dropout, see :func:`~.dropout`).

    In training mode each element is zeroed with probability ``drop_prob`` and the others are
    scaled by ``1 / (1 - drop_prob)``; in eval mode (after ``.eval()``) the layer is the
    identity.

    Args:
        drop_prob: the probability of zeroing an element, in [0, 1).
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: any shape, floating point; output: the same shape.

    Examples:
        >>> m = M.Dropout(0.5)
        >>> x = F.ones((1000,))
        >>> sorted(set(m(x).numpy().tolist()))
        [0.0, 2.0]
        >>> m.eval()
        >>> m(x) is x
        True
    """

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
