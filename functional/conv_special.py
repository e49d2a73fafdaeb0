"""Convolutions with a twist, MegEngine's names and arguments (also under F.nn):

- local_conv2d: untied weights, one kernel per output position (a locally connected layer);
- region_restricted_conv: each output sums only the inputs of its own region;
- deformable_conv2d: modulated deformable convolution (DCNv2), taps moved by learnt offsets.

local and region-restricted conv compose the im2col op (engine/ops/conv_window.py) with one
batched GEMM, so their gradients are those ops' gradients; deformable conv has its own column
kernels (engine/ops/deform_conv.py, csrc/kernels/deform_conv.h) under an ordinary GEMM.
"""
from engine import dtype as _dt
from engine.ops import conv_window as W
from engine.ops import deform_conv as D
from engine.ops import elemwise as E
from engine.ops import math as M
from engine.ops import shape as S

from ._utils import as_tensor, check_float
from .conv import _check_modes, _pair, promote

__all__ = ["local_conv2d", "region_restricted_conv", "deformable_conv2d"]


def _window(fn, stride, padding, dilation):
    return dict(stride=_pair(stride, "stride", fn, 1), padding=_pair(padding, "padding", fn, 0),
                dilation=_pair(dilation, "dilation", fn, 1))


def _out_hw(fn, in_hw, kernel, win):
    out = tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
                zip(in_hw, kernel, win["stride"], win["padding"], win["dilation"]))
    if min(out) <= 0:
        raise ValueError(f"{fn}: output size {out} is not positive: input {tuple(in_hw)}, kernel "
                         f"{tuple(kernel)}, stride {win['stride']}, padding {win['padding']}, "
                         f"dilation {win['dilation']}")
    return out


def _image(fn, inp):
    inp = as_tensor(inp, fn)
    check_float(inp, fn)
    if inp.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D (N, C, H, W) input, got shape {inp.shape}")
    return inp


def _add_bias(fn, out, bias):
    o = out.shape[1]
    bias = as_tensor(bias, fn, like=out)
    if bias.shape not in ((1, o, 1, 1), (o,)):
        raise ValueError(f"{fn}: bias of shape {bias.shape} does not match {o} output "
                         f"channels; expected (1, {o}, 1, 1)")
    return out + S.Reshape.apply(bias, shape=(1, o, 1, 1))


def local_conv2d(inp, weight, bias=None, stride=1, padding=0, dilation=1,
                 conv_mode="cross_correlation"):
    """2-D convolution with untied kernels (a locally connected layer): every output position
    has its own weights.

    Args:
        inp: (N, C, H, W).
        weight: (G, OH, OW, C/G, kh, kw, O/G), MegEngine's layout (G = 1 for an ungrouped one).
        bias: (1, O, 1, 1) or None.
        stride, padding, dilation: int or (h, w) pair.
        conv_mode: only "cross_correlation".

    Returns:
        (N, O, OH, OW): out[n, g*O/G + o, i, j] = sum over the window of output (i, j) of
        x[n, g*C/G + c] * weight[g, i, j, c, :, :, o].

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.ones((1, 2, 3, 3), "float32"))
        >>> w = mge.tensor(np.ones((1, 2, 2, 2, 2, 2, 4), "float32"))
        >>> y = F.local_conv2d(x, w)
        >>> y.shape
        (1, 4, 2, 2)
        >>> float(y[0, 0, 0, 0])
        8.0
    """
    fn = "local_conv2d"
    _check_modes(fn, conv_mode, "default")
    if str(conv_mode).lower() != "cross_correlation":
        raise ValueError(f"{fn}: conv_mode must be 'cross_correlation', got {conv_mode!r}")
    inp = _image(fn, inp)
    weight = as_tensor(weight, fn)
    check_float(weight, fn)
    if weight.ndim != 7:
        raise ValueError(f"{fn}: expected a 7-D weight (G, OH, OW, C/G, kh, kw, O/G), got shape "
                         f"{weight.shape}")
    win = _window(fn, stride, padding, dilation)
    g, oh, ow, cg, kh, kw, og = weight.shape
    n, c = inp.shape[:2]
    out = _out_hw(fn, inp.shape[2:], (kh, kw), win)
    if cg * g != c or out != (oh, ow):
        raise ValueError(f"{fn}: weight of shape {weight.shape} does not match input {inp.shape}: "
                         f"expected ({g}, {out[0]}, {out[1]}, {c // g}, {kh}, {kw}, O/G)")
    inp, weight = promote(inp, weight)
    cols = W.SlidingWindow.apply(inp, kernel=(kh, kw), **win)         # (N, C, OH, OW, kh, kw)
    cols = S.Reshape.apply(cols, shape=(n, g, cg, oh, ow, kh, kw))
    cols = S.Transpose.apply(cols, pattern=(1, 3, 4, 0, 2, 5, 6))     # (G, OH, OW, N, Cg, ..)
    cols = S.Reshape.apply(cols, shape=(g * oh * ow, n, cg * kh * kw))
    w = S.Reshape.apply(weight, shape=(g * oh * ow, cg * kh * kw, og))
    y = M.Matmul.apply(cols, w, transpose_a=False, transpose_b=False)  # (G*OH*OW, N, Og)
    y = S.Transpose.apply(S.Reshape.apply(y, shape=(g, oh, ow, n, og)), pattern=(3, 0, 4, 1, 2))
    y = S.Reshape.apply(y, shape=(n, g * og, oh, ow))
    return y if bias is None else _add_bias(fn, y, bias)


def region_restricted_conv(inp, weight, rin, rout, bias=None, stride=1, padding=0, dilation=1,
                           groups=1, conv_mode="cross_correlation", compute_mode="default"):
    """Region-restricted 2-D convolution: output (i, j) only sums the input pixels whose region
    id (rin) equals its own (rout).

    Args:
        inp: (N, C, H, W).
        weight: (G, O/G, C/G, kh, kw) (always grouped, as in MegEngine).
        rin: (N, H, W) int32 or uint8 region ids of the input pixels.
        rout: (N, OH, OW) region ids of the outputs, of rin's dtype.
        bias: (1, O, 1, 1) or None.
        stride, padding, dilation: int or (h, w) pair.
        groups: must equal weight.shape[0].
        conv_mode: only "cross_correlation".
        compute_mode: "default" or "float32" (both accumulate in float32 here).

    Returns:
        (N, O, OH, OW). Gradients flow to inp and weight (rin, rout are integer ids).

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.ones((1, 1, 3, 3), "float32"))
        >>> w = mge.tensor(np.ones((1, 1, 1, 3, 3), "float32"))
        >>> rin = mge.tensor(np.array([[[0, 0, 1], [0, 1, 1], [1, 1, 1]]], "int32"))
        >>> rout = mge.tensor(np.array([[[0]]], "int32"))
        >>> F.region_restricted_conv(x, w, rin, rout).numpy()
        array([[[[3.]]]], dtype=float32)
    """
    fn = "region_restricted_conv"
    _check_modes(fn, conv_mode, compute_mode)
    if str(conv_mode).lower() != "cross_correlation":
        raise ValueError(f"{fn}: conv_mode must be 'cross_correlation', got {conv_mode!r}")
    inp = _image(fn, inp)
    weight, rin, rout = as_tensor(weight, fn), as_tensor(rin, fn), as_tensor(rout, fn)
    check_float(weight, fn)
    if weight.ndim != 5:
        raise ValueError(f"{fn}: expected a 5-D grouped weight (G, O/G, C/G, kh, kw), got shape "
                         f"{weight.shape}")
    g, og, cg, kh, kw = weight.shape
    n, c = inp.shape[:2]
    if groups != g or cg * g != c:
        raise ValueError(f"{fn}: weight of shape {weight.shape} with groups={groups} does not "
                         f"match input {inp.shape}: expected ({groups}, O/G, {c // groups}, kh, "
                         "kw)")
    win = _window(fn, stride, padding, dilation)
    oh, ow = _out_hw(fn, inp.shape[2:], (kh, kw), win)
    if str(rin.dtype) not in ("int32", "uint8") or rout.dtype != rin.dtype:
        raise TypeError(f"{fn}: rin and rout must both be int32 or both uint8, got {rin.dtype} "
                        f"and {rout.dtype}")
    if tuple(rin.shape) != (n,) + tuple(inp.shape[2:]) or tuple(rout.shape) != (n, oh, ow):
        raise ValueError(f"{fn}: rin {rin.shape} and rout {rout.shape} must be "
                         f"{(n,) + tuple(inp.shape[2:])} and {(n, oh, ow)}")
    inp, weight = promote(inp, weight)
    # Region ids as float32 are exact below 2**24 (int32 ids beyond that would alias).
    ids = E.Cast.apply(S.Reshape.apply(rin, shape=(n, 1) + tuple(inp.shape[2:])),
                       dtype=_dt.float32)
    ids = W.SlidingWindow.apply(ids, kernel=(kh, kw), **win)           # (N, 1, OH, OW, kh, kw)
    own = E.Cast.apply(S.Reshape.apply(rout, shape=(n, 1, oh, ow, 1, 1)), dtype=_dt.float32)
    keep = E.Cast.apply(E.Equal.apply(ids, own), dtype=inp.dtype)
    cols = W.SlidingWindow.apply(inp, kernel=(kh, kw), **win) * keep   # (N, C, OH, OW, kh, kw)
    cols = S.Transpose.apply(S.Reshape.apply(cols, shape=(n, g, cg, oh * ow, kh, kw)),
                             pattern=(0, 1, 2, 4, 5, 3))
    cols = S.Reshape.apply(cols, shape=(n, g, cg * kh * kw, oh * ow))  # (N, G, K, P)
    w = S.Reshape.apply(weight, shape=(g, og, cg * kh * kw))
    y = M.Matmul.apply(w, cols, transpose_a=False, transpose_b=False)  # (N, G, Og, P)
    y = S.Reshape.apply(y, shape=(n, g * og, oh, ow))
    return y if bias is None else _add_bias(fn, y, bias)


def deformable_conv2d(inp, weight, offset, mask, bias=None, stride=1, padding=0, dilation=1,
                      groups=1, conv_mode="cross_correlation", compute_mode="default"):
    """Modulated deformable 2-D convolution (DCNv2).

    Tap t = ki*kw + kj of output (i, j) reads x bilinearly at
    (i*sh - ph + ki*dh + offset[:, 2t], j*sw - pw + kj*dw + offset[:, 2t + 1]) (per deformable
    group) and is scaled by mask[:, t]; points outside the image read zero.

    Args:
        inp: (N, C, H, W).
        weight: (O, C/G, kh, kw); grouped also (G, O/G, C/G, kh, kw).
        offset: (N, 2*DG*kh*kw, OH, OW) for DG deformable groups (C divisible by DG).
        mask: (N, DG*kh*kw, OH, OW).
        bias: (1, O, 1, 1) or None.
        stride, padding, dilation: int or (h, w) pair.
        groups: split channels into this many independent convs.
        conv_mode: only "cross_correlation".
        compute_mode: "default" or "float32" (both accumulate in float32 here).

    Returns:
        (N, O, OH, OW). Differentiable w.r.t. inp, weight, offset, mask and bias.

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.arange(9, dtype="float32").reshape(1, 1, 3, 3))
        >>> w = mge.tensor(np.ones((1, 1, 1, 1), "float32"))
        >>> offset = mge.tensor(np.full((1, 2, 3, 3), 0.5, "float32"))
        >>> mask = mge.tensor(np.ones((1, 1, 3, 3), "float32"))
        >>> F.deformable_conv2d(x, w, offset, mask).numpy()[0, 0]
        array([[2.  , 3.  , 1.75],
               [5.  , 6.  , 3.25],
               [3.25, 3.75, 2.  ]], dtype=float32)
    """
    fn = "deformable_conv2d"
    _check_modes(fn, conv_mode, compute_mode)
    if str(conv_mode).lower() != "cross_correlation":
        raise ValueError(f"{fn}: conv_mode must be 'cross_correlation', got {conv_mode!r}")
    inp = _image(fn, inp)
    weight, offset, mask = as_tensor(weight, fn), as_tensor(offset, fn), as_tensor(mask, fn)
    for t in (weight, offset, mask):
        check_float(t, fn)
    if weight.ndim == 5:
        if weight.shape[0] != groups:
            raise ValueError(f"{fn}: a 5-D grouped weight needs groups == its first dim, got "
                             f"weight shape {weight.shape} and groups={groups}")
        weight = S.Reshape.apply(weight, shape=(weight.shape[0] * weight.shape[1],) +
                                 tuple(weight.shape[2:]))
    elif weight.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D weight or a 5-D grouped weight, got shape "
                         f"{weight.shape}")
    o, cg, kh, kw = weight.shape
    n, c = inp.shape[:2]
    if cg * groups != c or o % groups:
        raise ValueError(f"{fn}: weight of shape {weight.shape} with groups={groups} does not "
                         f"match input {inp.shape}")
    win = _window(fn, stride, padding, dilation)
    oh, ow = _out_hw(fn, inp.shape[2:], (kh, kw), win)
    taps = kh * kw
    dg = mask.shape[1] // taps if mask.ndim == 4 else 0
    if (mask.ndim != 4 or dg == 0 or mask.shape[1] % taps or c % dg
            or tuple(mask.shape) != (n, dg * taps, oh, ow)
            or tuple(offset.shape) != (n, 2 * dg * taps, oh, ow)):
        raise ValueError(f"{fn}: offset {offset.shape} and mask {mask.shape} must be "
                         f"(N, 2*DG*{taps}, {oh}, {ow}) and (N, DG*{taps}, {oh}, {ow}) with N={n} "
                         f"and DG deformable groups dividing {c} channels")
    inp, weight = promote(inp, weight)
    col = D.DeformIm2col.apply(inp, offset, mask, kernel=(kh, kw), **win)   # (N, C*T, P)
    col = S.Reshape.apply(col, shape=(n, groups, cg * taps, oh * ow))
    w = S.Reshape.apply(weight, shape=(groups, o // groups, cg * taps))
    y = M.Matmul.apply(w, col, transpose_a=False, transpose_b=False)       # (N, G, Og, P)
    y = S.Reshape.apply(y, shape=(n, o, oh, ow))
    return y if bias is None else _add_bias(fn, y, bias)
