"""MultiHeadAttention (MegEngine 1.13's layer): all projections packed in one parameter,
io_weight_bias, laid out as F.nn.multi_head_attention reads it."""
import numpy as np

import engine.functional as F
from engine.tensor import Parameter

from . import init
from .module import Module

__all__ = ["MultiHeadAttention"]


class MultiHeadAttention(Module):
    r"""Multi-head attention over batch-first (N, L, E) queries and (N, S, kdim/vdim) keys and
    values.

    ``io_weight_bias`` (1, (2 * embed_dim + kdim + vdim) * embed_dim [+ 4 * embed_dim]) holds
    W_Q, W_K, W_V, W_O (each (in, out): x @ W + b) and, with bias, b_Q, b_K, b_V, b_O.

    Args:
        embed_dim: model dimension E.
        num_heads: number of heads (must divide embed_dim).
        attn_dropout: dropout on the attention weights.
        out_dropout: dropout on the output.
        bias: learn the four projection biases.
        add_bias_kv: must be False (as MegEngine 1.13).
        add_zero_attn: must be False (as MegEngine 1.13).
        kdim: key feature size (None: embed_dim).
        vdim: value feature size (None: embed_dim).

    As MegEngine's, reset_parameters() sets attn_dropout and out_dropout to 0; set them after
    construction to use dropout.

    Examples:
        >>> import numpy as np
        >>> m = M.MultiHeadAttention(8, 2)
        >>> x = Tensor(np.ones((2, 3, 8), dtype=np.float32))
        >>> out, weights = m(x, x, x, need_weights=True)
        >>> out.shape, weights.shape
        ((2, 3, 8), (4, 3, 3))
    """

    def __init__(self, embed_dim, num_heads, attn_dropout=0.0, out_dropout=0.0, bias=True,
                 add_bias_kv=False, add_zero_attn=False, kdim=None, vdim=None, **kwargs):
        super().__init__(**kwargs)
        if embed_dim % num_heads:
            raise ValueError(f"MultiHeadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        if add_bias_kv or add_zero_attn:
            raise ValueError("MultiHeadAttention: add_bias_kv and add_zero_attn are not "
                             "supported (as in MegEngine 1.13)")
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.attn_dropout = attn_dropout
        self.out_dropout = out_dropout
        self.bias = bias
        self.add_bias_kv = add_bias_kv
        self.add_zero_attn = add_zero_attn
        self._weight_len = (2 * embed_dim + self.kdim + self.vdim) * embed_dim
        total = self._weight_len + (4 * embed_dim if bias else 0)
        self.io_weight_bias = Parameter(np.empty((1, total), dtype=np.float32))
        self.bias_k = None
        self.bias_v = None
        self.reset_parameters()

    def reset_parameters(self):
        self.attn_dropout = 0.0  # MegEngine's reset does this too
        self.out_dropout = 0.0
        init.xavier_uniform_(self.io_weight_bias)
        if self.bias:
            values = self.io_weight_bias.numpy()
            values[0, self._weight_len:] = 0
            self.io_weight_bias._reset(Parameter(values, device=self.io_weight_bias.device))

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None,
                need_weights=False, average_attn_weights=False, is_causal=False,
                maybe_cudnn_style_mask=False):
        e = self.embed_dim
        return F.nn.multi_head_attention(
            query, key, value, e, self.num_heads, self.attn_dropout, self.out_dropout,
            self.io_weight_bias, qproj_size=e, kproj_size=e, vproj_size=e, oproj_size=e,
            qbias=self.bias, kbias=self.bias, vbias=self.bias, obias=self.bias,
            bias_k=self.bias_k, bias_v=self.bias_v, add_zero_attn=self.add_zero_attn,
            key_padding_mask=key_padding_mask, attn_mask=attn_mask, need_weights=need_weights,
            average_attn_weights=average_attn_weights, is_causal=is_causal,
            maybe_cudnn_style_mask=maybe_cudnn_style_mask, training=self.training)

    def _module_info_string(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, bias={self.bias}, "
                f"kdim={self.kdim}, vdim={self.vdim}")
