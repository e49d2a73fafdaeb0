"""QuantStub and DequantStub: the points where quantization-aware training would quantize and
dequantize; in float mode both return their input."""
from .module import Module

__all__ = ["QuantStub", "DequantStub"]


class QuantStub(Module):
    r"""A helper Module returning its input unchanged; MegEngine's quantize_qat replaces it with
    its QAT version, which engine does not have yet (quantization has its own issue).

    Args:
        name: optional name of the module.

    Returns:
        forward(inp) returns inp itself.

    Examples:
        >>> import engine as mge
        >>> import engine.module as M
        >>> x = mge.tensor([1.0, 2.0])
        >>> M.QuantStub()(x) is x
        True
    """

    def forward(self, inp):
        return inp


class DequantStub(Module):
    r"""A helper Module returning its input unchanged; MegEngine's quantize_qat replaces it with
    its QAT version, which engine does not have yet (quantization has its own issue).

    Args:
        name: optional name of the module.

    Returns:
        forward(inp) returns inp itself.

    Examples:
        >>> import engine as mge
        >>> import engine.module as M
        >>> x = mge.tensor([1.0, 2.0])
        >>> M.DequantStub()(x) is x
        True
    """

    def forward(self, inp):
        return inp
