"""Linear, LinearRelu, Identity and Embedding."""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter, Tensor

from . import init
from ._utils import positive_int
from .module import Module

__all__ = ["Linear", "LinearRelu", "Identity", "Embedding"]


class Linear(Module):
    r"""Applies a linear transformation to the input: :math:`y = xW^T + b`, weight of shape
    (out_features, in_features), bias (out_features,).

    Initialisation (MegEngine): weight ~ N(0, 1 / in_features), bias = 0.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if ``False``, the layer does not learn an additive bias. Default: ``True``
        compute_mode: MegEngine's choice of accumulation precision ("float32" for float16
            inputs); accepted and kept, but it has no effect: engine has one matmul per dtype.
            Default: ``"default"``

    Returns:
        The (..., out_features) output of forward(x) for an (..., in_features) input.

    Examples:
        >>> m = M.Linear(in_features=3, out_features=1)
        >>> inp = mge.tensor(np.arange(0, 6).astype("float32").reshape(2, 3))
        >>> oup = m(inp)
        >>> oup.numpy().shape
        (2, 1)
        >>> m.weight.shape, m.bias.shape
        ((1, 3), (1,))
        >>> M.init.ones_(m.weight)
        >>> m(inp).numpy()
        array([[ 3.],
               [12.]], dtype=float32)
        >>> M.Linear(3, 2, bias=False).bias is None
        True
        >>> M.Linear(3, 2)(Tensor(np.zeros((4, 5, 3), "float32"))).shape
        (4, 5, 2)
    """

    def __init__(self, in_features, out_features, bias=True, compute_mode="default", **kwargs):
        super().__init__(**kwargs)
        self.in_features = positive_int(in_features, "in_features", type(self).__name__)
        self.out_features = positive_int(out_features, "out_features", type(self).__name__)
        self.compute_mode = compute_mode
        self.weight = Parameter(np.zeros((out_features, in_features), np.float32))
        self.bias = Parameter(np.zeros((out_features,), np.float32)) if bias else None
        self.reset_parameters()

    def _get_fanin(self):
        return self.in_features

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, np.sqrt(1 / self._get_fanin()))
        if self.bias is not None:
            init.zeros_(self.bias)

    def calc_linear(self, x, weight, bias):
        """x @ weight.T + bias (what forward computes, with the given weights)."""
        return F.nn.linear(x, weight, bias)

    def forward(self, x):
        return self.calc_linear(x, self.weight, self.bias)

    def _module_info_string(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class LinearRelu(Linear):
    r"""A fused :class:`Linear` and :func:`~.relu`: :math:`y = \max(xW^T + b, 0)`, with
    Linear's parameters (weight, bias) and arguments.

    Args: as :class:`Linear`.

    Returns:
        The (..., out_features) output of forward(inp).

    Examples:
        >>> import numpy as np
        >>> import engine as mge
        >>> import engine.module as M
        >>> m = M.LinearRelu(2, 1, bias=False)
        >>> m.weight[...] = mge.tensor([[1.0, -1.0]])
        >>> print(m(mge.tensor([[1.0, 2.0], [3.0, 1.0]])).numpy())
        [[0.]
         [2.]]
    """

    def forward(self, inp):
        return F.relu(self.calc_linear(inp, self.weight, self.bias))


class Identity(Module):
    """Returns its input unchanged (a placeholder layer).

    Args:
        **kwargs: ``name``, passed on to :class:`Module`.

    Examples:
        >>> M.Identity()(Tensor([1., 2.])).numpy()
        array([1., 2.], dtype=float32)
    """

    def forward(self, x):
        return x


class Embedding(Module):
    """A lookup table: each integer index picks a row of ``weight``.

    Initialisation: weight ~ N(0, 1), or a copy of ``initial_weight``. padding_idx, max_norm
    and norm_type are not supported (as in MegEngine) and must stay None.

    Args:
        num_embeddings: the number of rows of the table.
        embedding_dim: the size of each row.
        padding_idx: must be None.
        max_norm: must be None.
        norm_type: must be None.
        initial_weight: None, or a tensor (or array) of shape (num_embeddings, embedding_dim)
            to copy.
        freeze: if True no gradient flows to the table.
        **kwargs: ``name``, passed on to :class:`Module`.

    Shape:
        input: integer indices of any shape (...); output: (..., embedding_dim).

    Examples:
        >>> table = np.array([[0., 0.], [1., 1.], [2., 4.]], dtype=np.float32)
        >>> m = M.Embedding(3, 2, initial_weight=Tensor(table))
        >>> m(Tensor([2, 0, 1])).numpy()
        array([[2., 4.],
               [0., 0.],
               [1., 1.]], dtype=float32)
        >>> m(Tensor([[2, 0], [1, 1]])).shape
        (2, 2, 2)
        >>> M.Embedding.from_pretrained(Tensor(table)).freeze
        True
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=None, initial_weight=None, freeze=False, **kwargs):
        super().__init__(**kwargs)
        if padding_idx is not None:
            raise ValueError("Embedding: padding_idx is not supported, pass None")
        if max_norm is not None or norm_type is not None:
            raise ValueError("Embedding: max_norm / norm_type are not supported, pass None")
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.padding_idx, self.max_norm, self.norm_type = None, None, None
        self.freeze = freeze
        shape = (num_embeddings, embedding_dim)
        if initial_weight is None:
            self.weight = Parameter(np.zeros(shape, np.float32))
            self.reset_parameters()
        else:
            if tuple(initial_weight.shape) != shape:
                raise ValueError(f"Embedding: initial_weight of shape "
                                 f"{tuple(initial_weight.shape)} does not match "
                                 f"(num_embeddings, embedding_dim) = {shape}")
            self.weight = Parameter(np.asarray(initial_weight, np.float32))

    def reset_parameters(self):
        init.normal_(self.weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=None):
        """An Embedding whose table is a copy of the 2-D ``embeddings``.

        Args:
            embeddings: an array or tensor of shape (num_embeddings, embedding_dim).
            freeze: if True (the default) no gradient flows to the table.
            padding_idx: must be None.
            max_norm: must be None.
            norm_type: must be None.

        Returns:
            a new :class:`Embedding`.

        Examples:
            >>> m = M.Embedding.from_pretrained(Tensor(np.eye(3, dtype=np.float32)))
            >>> m(Tensor([1])).numpy()
            array([[0., 1., 0.]], dtype=float32)
        """
        if len(embeddings.shape) != 2:
            raise ValueError(f"Embedding.from_pretrained: expected a 2-D table, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, initial_weight=embeddings,
                   freeze=freeze)

    def forward(self, inputs):
        if not isinstance(inputs, Tensor):
            inputs = Tensor(np.asarray(inputs), device=self.weight.device)
        if inputs.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be an integer tensor, got {inputs.dtype}")
        weight = self.weight.detach() if self.freeze else self.weight
        return weight[inputs]

    def _module_info_string(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
