"""3-D convolutions: F.conv3d and F.conv_transpose3d with MegEngine's arguments (also under
F.nn), on the vol2col kernels of engine/ops/conv3d.py.

Weights follow MegEngine: conv3d (O, C, kd, kh, kw), grouped (G, O/G, C/G, kd, kh, kw) (the 5-D
(O, C/G, ...) form is accepted too); conv_transpose3d (C, O, kd, kh, kw), grouped
(G, C/G, O/G, kd, kh, kw). Bias has shape (1, O, 1, 1, 1).
"""
from engine.ops import conv3d as K
from engine.ops import shape as S

from ._utils import as_tensor, check_float
from .conv import _ntuple, promote

__all__ = ["conv3d", "conv_transpose3d"]


def _triple(value, name, fn, minimum):
    return _ntuple(value, 3, name, fn, minimum)


def _inputs(fn, inp, weight, groups, conv_mode):
    if str(conv_mode).lower() != "cross_correlation":
        raise ValueError(f"{fn}: conv_mode must be 'cross_correlation', got {conv_mode!r}")
    inp, weight = as_tensor(inp, fn), as_tensor(weight, fn)
    check_float(inp, fn)
    check_float(weight, fn)
    if inp.ndim != 5:
        raise ValueError(f"{fn}: expected a 5-D (N, C, D, H, W) input, got shape {inp.shape}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    if weight.ndim == 6:
        if weight.shape[0] != groups:
            raise ValueError(f"{fn}: a 6-D grouped weight needs groups == its first dim, got "
                             f"weight shape {weight.shape} and groups={groups}")
        g, a, b = weight.shape[:3]
        weight = S.Reshape.apply(weight, shape=(g * a, b) + tuple(weight.shape[3:]))
    elif weight.ndim != 5:
        raise ValueError(f"{fn}: expected a 5-D weight or a 6-D grouped weight, got shape "
                         f"{weight.shape}")
    return promote(inp, weight)


def _bias(fn, bias, like, channels):
    bias = as_tensor(bias, fn, like=like)
    if bias.shape not in ((1, channels, 1, 1, 1), (channels,)):
        raise ValueError(f"{fn}: bias of shape {bias.shape} does not match {channels} output "
                         f"channels; expected (1, {channels}, 1, 1, 1)")
    return bias


def conv3d(inp, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           conv_mode="cross_correlation"):
    """3-D convolution (cross-correlation) of an NCDHW input.

    Args:
        inp: (N, C, D, H, W).
        weight: (O, C, kd, kh, kw); grouped: (G, O/G, C/G, kd, kh, kw) or (O, C/G, kd, kh, kw).
        bias: (1, O, 1, 1, 1) or None.
        stride, padding, dilation: int or (d, h, w) triple.
        groups: split channels into this many independent convs (C and O divisible by it).
        conv_mode: only "cross_correlation".

    Returns:
        (N, O, OD, OH, OW) with OD = (D + 2*pd - dd*(kd - 1) - 1) // sd + 1 (likewise OH, OW).

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.ones((1, 2, 3, 3, 3), "float32"))
        >>> w = mge.tensor(np.ones((4, 2, 2, 2, 2), "float32"))
        >>> y = F.conv3d(x, w, padding=(0, 1, 0))
        >>> y.shape
        (1, 4, 2, 4, 2)
        >>> float(y[0, 0, 0, 1, 0])
        16.0
    """
    fn = "conv3d"
    inp, w = _inputs(fn, inp, weight, groups, conv_mode)
    stride = _triple(stride, "stride", fn, 1)
    padding = _triple(padding, "padding", fn, 0)
    dilation = _triple(dilation, "dilation", fn, 1)
    c, o, cg = inp.shape[1], w.shape[0], w.shape[1]
    if cg * groups != c:
        raise ValueError(f"{fn}: input of shape {inp.shape} has {c} channels but weight of shape "
                         f"{weight.shape} with groups={groups} expects {cg * groups}")
    if o % groups:
        raise ValueError(f"{fn}: {o} output channels (weight {weight.shape}) are not divisible "
                         f"by groups={groups}")
    out = [(i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
           zip(inp.shape[2:], w.shape[2:], stride, padding, dilation)]
    if min(out) <= 0:
        raise ValueError(f"{fn}: output size {tuple(out)} is not positive: input "
                         f"{tuple(inp.shape[2:])}, kernel {tuple(w.shape[2:])}, stride {stride}, "
                         f"padding {padding}, dilation {dilation}")
    win = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if bias is None:
        return K.Conv3d.apply(inp, w, **win)
    return K.Conv3d.apply(inp, w, _bias(fn, bias, inp, o), **win)


def conv_transpose3d(inp, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1,
                     groups=1):
    """3-D transposed convolution: the adjoint (gradient w.r.t. input) of conv3d.

    Args:
        inp: (N, C, D, H, W).
        weight: (C, O, kd, kh, kw); grouped: (G, C/G, O/G, kd, kh, kw) or (C, O/G, kd, kh, kw).
        bias: (1, O, 1, 1, 1) or None.
        stride, padding, output_padding, dilation: int or (d, h, w) triple; output_padding must
            be smaller than stride.
        groups: as in conv3d (MegEngine documents groups=1 only; grouped weights work here).

    Returns:
        (N, O, OD, OH, OW) with OD = (D - 1)*sd - 2*pd + dd*(kd - 1) + output_padding_d + 1.

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.ones((1, 2, 2, 2, 2), "float32"))
        >>> w = mge.tensor(np.ones((2, 3, 3, 3, 3), "float32"))
        >>> F.conv_transpose3d(x, w, stride=2, padding=1, output_padding=1).shape
        (1, 3, 4, 4, 4)
    """
    fn = "conv_transpose3d"
    inp, w = _inputs(fn, inp, weight, groups, "cross_correlation")
    stride = _triple(stride, "stride", fn, 1)
    padding = _triple(padding, "padding", fn, 0)
    output_padding = _triple(output_padding, "output_padding", fn, 0)
    dilation = _triple(dilation, "dilation", fn, 1)
    c, og = inp.shape[1], w.shape[1]
    if w.shape[0] != c:
        raise ValueError(f"{fn}: input of shape {inp.shape} has {c} channels but weight of shape "
                         f"{weight.shape} expects {w.shape[0]}")
    if c % groups:
        raise ValueError(f"{fn}: {c} input channels are not divisible by groups={groups}")
    if any(op >= s for op, s in zip(output_padding, stride)):
        raise ValueError(f"{fn}: output_padding {output_padding} must be smaller than stride "
                         f"{stride}")
    out = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, d, op in
                zip(inp.shape[2:], w.shape[2:], stride, padding, dilation, output_padding))
    if min(out) <= 0:
        raise ValueError(f"{fn}: output size {out} is not positive: input "
                         f"{tuple(inp.shape[2:])}, kernel {tuple(w.shape[2:])}, stride {stride}, "
                         f"padding {padding}, dilation {dilation}")
    y = K.Conv3dBackwardData.apply(inp, w, in_size=out, stride=stride, padding=padding,
                                   dilation=dilation, groups=groups)
    if bias is None:
        return y
    o = og * groups
    return y + S.Reshape.apply(_bias(fn, bias, y, o), shape=(1, o, 1, 1, 1))
