"""Multi-head attention (MegEngine 1.13's F.nn.multi_head_attention), composed from matmul,
softmax and dropout: its gradient comes from theirs."""
import numpy as np

from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import indexing as I
from engine.ops import shape as S
from engine.ops import softmax as SM
from engine.tensor import Tensor

from ._utils import as_tensor
from .math import matmul

__all__ = ["multi_head_attention"]


def _slices(io_weight_bias, sizes, fn):
    """Cut the flat io_weight_bias into its parts, in MegEngine's order: the query, key, value
    and output weights (each (in, out): the projection is x @ w + b), then their biases."""
    flat = S.Reshape.apply(io_weight_bias, shape=(-1,))
    need = sum(int(np.prod(s)) for s in sizes if s is not None)
    if flat.shape[0] != need:
        raise ValueError(f"{fn}: io_weight_bias holds {flat.shape[0]} values, the projections "
                         f"configured need {need} (shapes {[s for s in sizes if s]})")
    out, at = [], 0
    for s in sizes:
        if s is None:
            out.append(None)
            continue
        n = int(np.prod(s))
        out.append(S.Reshape.apply(I.GetItem.apply(flat, index=(slice(at, at + n),)), shape=s))
        at += n
    return out


def _project(x, w, b):
    if w is not None:
        x = matmul(x, w)
    return x if b is None else x + b


def _additive_mask(mask, name, dtype, fn):
    """A bool mask (True = do not attend) as 0 / -inf; a float mask is added as it is."""
    if mask is None:
        return None
    mask = as_tensor(mask, fn)
    if mask.dtype == _dt.bool_:
        zero = E._const(0.0, dtype, mask._storage.device)
        ninf = E._const(float("-inf"), dtype, mask._storage.device)
        return E.Where.apply(mask, ninf, zero)
    if not _dt.is_float(mask.dtype):
        raise TypeError(f"{fn}: {name} must be bool or floating point, got {mask.dtype}")
    return mask if mask.dtype == dtype else E.Cast.apply(mask, dtype=dtype)


def multi_head_attention(query, key, value, embed_dim, num_heads, attn_drop, out_drop,
                         io_weight_bias, qproj_size=None, kproj_size=None, vproj_size=None,
                         oproj_size=None, qbias=False, kbias=False, vbias=False, obias=False,
                         bias_k=None, bias_v=None, add_zero_attn=False, key_padding_mask=None,
                         attn_mask=None, need_weights=False, average_attn_weights=False,
                         is_causal=False, maybe_cudnn_style_mask=False, reslink=False,
                         training=True):
    r"""Multi-head scaled dot-product attention with the projections packed in one tensor.

    ``out = concat_h(softmax(q_h k_h^T / sqrt(d) + mask) v_h) @ W_O + b_O`` with
    ``q = query @ W_Q + b_Q`` (and k, v alike), split into num_heads heads of d channels.
    Batch first: query (N, L, E_q), key (N, S, E_k), value (N, S, E_v); an unbatched 2-D query
    gives 2-D outputs. As MegEngine, bias_k, bias_v, add_zero_attn, reslink and the cudnn-style
    masks are not supported (a clear error).

    Args:
        query, key, value: (N, L, E_q), (N, S, E_k), (N, S, E_v) tensors (or unbatched 2-D).
        embed_dim: total model dimension (sets the scale 1 / sqrt(embed_dim / num_heads)).
        num_heads: number of parallel heads.
        attn_drop: dropout probability on the attention weights (when training).
        out_drop: dropout probability on the output (when training).
        io_weight_bias: flat tensor holding W_Q (E_q, qproj), W_K (E_k, kproj),
            W_V (E_v, vproj), W_O (vproj, oproj), then b_Q, b_K, b_V, b_O, each present only
            when its size (and bias flag) says so.
        qproj_size, kproj_size, vproj_size, oproj_size: projection sizes (None: embed_dim;
            0: no projection).
        qbias, kbias, vbias, obias: whether io_weight_bias holds that bias.
        bias_k, bias_v: must be None.
        add_zero_attn: must be False.
        key_padding_mask: (N, S) bool (True = ignore that key) or float (added) mask.
        attn_mask: (L, S) or (N * num_heads, L, S) bool or float mask.
        need_weights: also return the attention weights.
        average_attn_weights: average the returned weights over the heads.
        is_causal: without attn_mask, mask every key after the query's position.
        maybe_cudnn_style_mask: must be False.
        reslink: must be False.
        training: apply the dropouts.

    Returns:
        (out (N, L, oproj), weights) with weights (N * num_heads, L, S), (N, L, S) when
        averaged, or None without need_weights.

    Examples:
        >>> import numpy as np
        >>> E = 4
        >>> x = Tensor(np.ones((1, 2, E), dtype=np.float32))
        >>> w = Tensor(np.zeros((1, 4 * E * E), dtype=np.float32))
        >>> out, _ = F.nn.multi_head_attention(x, x, x, E, 2, 0.0, 0.0, w)
        >>> out.shape
        (1, 2, 4)
    """
    fn = "multi_head_attention"
    for name, ok in (("bias_k", bias_k is None), ("bias_v", bias_v is None),
                     ("add_zero_attn", not add_zero_attn), ("reslink", not reslink),
                     ("maybe_cudnn_style_mask", not maybe_cudnn_style_mask)):
        if not ok:
            raise ValueError(f"{fn}: {name} is not supported (as in MegEngine 1.13)")
    query, key, value = (as_tensor(t, fn) for t in (query, key, value))
    if not _dt.is_float(query.dtype):
        raise TypeError(f"{fn}: query must be floating point, got {query.dtype}")
    batched = query.ndim == 3
    if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{fn}: expected 3-D (batched) or 2-D query, key and value of one "
                         f"rank, got {query.shape}, {key.shape}, {value.shape}")
    if not batched:
        query, key, value = (S.Reshape.apply(t, shape=(1,) + t.shape)
                             for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = as_tensor(key_padding_mask, fn).reshape(1, -1)
    n, tgt, eq = query.shape
    if key.shape[:2] != value.shape[:2] or key.shape[0] != n:
        raise ValueError(f"{fn}: query {query.shape}, key {key.shape} and value {value.shape} "
                         "must share the batch size, and key and value the sequence length")
    src = key.shape[1]
    ek, ev = key.shape[2], value.shape[2]
    qp, kp, vp, op = (embed_dim if s is None else int(s)
                      for s in (qproj_size, kproj_size, vproj_size, oproj_size))
    for flag, size, name in ((qbias, qp, "q"), (kbias, kp, "k"), (vbias, vp, "v"),
                             (obias, op, "o")):
        if flag and size <= 0:
            raise ValueError(f"{fn}: {name}bias needs a {name} projection ({name}proj_size > 0)")
    qd, kd, vd = qp or eq, kp or ek, vp or ev
    if qd != kd or qd % num_heads or vd % num_heads:
        raise ValueError(f"{fn}: projected query ({qd}) and key ({kd}) sizes must be equal and, "
                         f"with the value size ({vd}), divisible by num_heads={num_heads}")
    shapes = [(eq, qp) if qp else None, (ek, kp) if kp else None, (ev, vp) if vp else None,
              (vd, op) if op else None, (qp,) if qbias else None, (kp,) if kbias else None,
              (vp,) if vbias else None, (op,) if obias else None]
    wq, wk, wv, wo, bq, bk, bv, bo = _slices(as_tensor(io_weight_bias, fn), shapes, fn)

    head = embed_dim if qp == 0 else embed_dim // num_heads
    q = _project(query, wq, bq) * float(head ** -0.5)
    k = _project(key, wk, bk)
    v = _project(value, wv, bv)

    def heads(x, length, dim):  # (N, T, H * d) -> (N * H, T, d)
        x = S.Reshape.apply(x, shape=(n, length, num_heads, dim // num_heads))
        x = S.Transpose.apply(x, pattern=(0, 2, 1, 3))
        return S.Reshape.apply(x, shape=(n * num_heads, length, dim // num_heads))

    q, k, v = heads(q, tgt, qd), heads(k, src, kd), heads(v, src, vd)
    scores = matmul(q, k, transpose_b=True)  # (N * H, L, S)

    mask = _additive_mask(attn_mask, "attn_mask", scores.dtype, fn)
    if mask is None and is_causal:
        causal = Tensor(np.triu(np.ones((tgt, src), dtype=bool), 1), device=scores.device)
        mask = _additive_mask(causal, "attn_mask", scores.dtype, fn)
    if mask is not None and mask.shape not in ((tgt, src), (n * num_heads, tgt, src)):
        raise ValueError(f"{fn}: attn_mask must be ({tgt}, {src}) or "
                         f"({n * num_heads}, {tgt}, {src}), got {mask.shape}")
    kpm = _additive_mask(key_padding_mask, "key_padding_mask", scores.dtype, fn)
    if kpm is not None:
        if kpm.shape != (n, src):
            raise ValueError(f"{fn}: key_padding_mask must be ({n}, {src}), got {kpm.shape}")
        kpm = S.BroadcastTo.apply(S.Reshape.apply(kpm, shape=(n, 1, 1, src)),
                                  shape=(n, num_heads, tgt, src))
        kpm = S.Reshape.apply(kpm, shape=(n * num_heads, tgt, src))
        mask = kpm if mask is None else mask + kpm
    if mask is not None:
        scores = scores + mask
    weights = SM.Softmax.apply(scores, axis=2)
    attn = weights
    if training and attn_drop > 0:
        from .nn import dropout

        attn = dropout(attn, attn_drop, training=True)
    out = matmul(attn, v)  # (N * H, L, vd / H)
    out = S.Transpose.apply(S.Reshape.apply(out, shape=(n, num_heads, tgt, vd // num_heads)),
                            pattern=(0, 2, 1, 3))
    out = _project(S.Reshape.apply(out, shape=(n, tgt, vd)), wo, bo)
    if training and out_drop > 0:
        from .nn import dropout

        out = dropout(out, out_drop, training=True)
    if not batched:
        out = S.Reshape.apply(out, shape=out.shape[1:])
    if not need_weights:
        return out, None
    if average_attn_weights:
        w = S.Reshape.apply(weights, shape=(n, num_heads, tgt, src)).mean(axis=1)
        return out, (w if batched else S.Reshape.apply(w, shape=(tgt, src)))
    return out, weights
