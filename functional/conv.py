"""Convolutions: F.conv1d, F.conv2d and F.conv_transpose2d with MegEngine's arguments (also
under F.nn). conv1d runs through the 2-D kernels as a convolution of height-1 images.

Weights follow MegEngine: conv2d (O, C, kh, kw), grouped (G, O/G, C/G, kh, kw) (the 4-D
(O, C/G, kh, kw) form is accepted too); conv_transpose2d (C, O, kh, kw), grouped
(G, C/G, O/G, kh, kw). Bias has shape (1, O, 1, 1).
"""
import numpy as np

from engine.ops import conv as K
from engine.ops import elemwise as E
from engine.ops import shape as S

from ._utils import as_tensor, check_float

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]

_CONV_MODES = ("cross_correlation", "convolution")
_COMPUTE_MODES = ("default", "float32")


def _ntuple(value, n, name, fn, minimum):
    """An int or a sequence of n ints (numpy ints too), checked against `minimum`."""
    if type(value) is int and value >= minimum:  # the common case, checked cheaply
        return (value,) * n
    v = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(v) != n or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                              for i in v):
        what = {1: "an int", 2: "an int or a pair of ints"}.get(n, f"an int or {n} ints")
        raise TypeError(f"{fn}: {name} must be {what}, got {value!r}")
    v = tuple(int(i) for i in v)
    if min(v) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    return v


def _pair(value, name, fn, minimum):
    return _ntuple(value, 2, name, fn, minimum)


def _check_modes(fn, conv_mode, compute_mode):
    mode = str(conv_mode).lower()
    if mode not in _CONV_MODES:
        raise ValueError(f"{fn}: conv_mode must be one of {_CONV_MODES}, got {conv_mode!r}")
    if str(compute_mode).lower() not in _COMPUTE_MODES:
        raise ValueError(f"{fn}: compute_mode must be one of {_COMPUTE_MODES}, "
                         f"got {compute_mode!r}")
    return mode


def promote(*tensors):
    """MegEngine's promotion of mixed float dtypes (float16 data with float32 weights computes
    in float32); a no-op for the common case of one dtype.

    Args:
        tensors: the tensors to bring to one dtype.

    Returns:
        a tuple of the tensors, each cast to the promoted dtype where it differs.

    Examples:
        >>> from engine.functional.conv import promote
        >>> x, w = promote(Tensor(np.ones(2, "float16")), Tensor(np.ones(2, "float32")))
        >>> x.dtype, w.dtype
        (dtype('float32'), dtype('float32'))
    """
    if all(t.dtype == tensors[0].dtype for t in tensors):
        return tensors
    dtype = np.result_type(*(t.dtype for t in tensors))
    return tuple(t if t.dtype == dtype else E.Cast.apply(t, dtype=dtype) for t in tensors)


def _inputs(fn, inp, weight, groups):
    inp, weight = as_tensor(inp, fn), as_tensor(weight, fn)
    check_float(inp, fn)
    check_float(weight, fn)
    if inp.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D (N, C, H, W) input, got shape {inp.shape}")
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    return promote(inp, weight)


def _flat_weight(fn, weight, groups, layout):
    """The 4-D weight; a 5-D grouped weight (G, A/G, B/G, kh, kw) becomes (A, B/G, kh, kw)."""
    if weight.ndim == 5:
        if weight.shape[0] != groups:
            raise ValueError(f"{fn}: a 5-D grouped weight {layout} needs groups == its first "
                             f"dim, got weight shape {weight.shape} and groups={groups}")
        g, a, b, kh, kw = weight.shape
        return S.Reshape.apply(weight, shape=(g * a, b, kh, kw))
    if weight.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D weight or a 5-D grouped weight {layout}, got "
                         f"shape {weight.shape}")
    return weight


def _add_bias(fn, out, bias, channels):
    bias = as_tensor(bias, fn, like=out)
    if bias.shape not in ((1, channels, 1, 1), (channels,)):
        raise ValueError(f"{fn}: bias of shape {bias.shape} does not match {channels} output "
                         f"channels; expected (1, {channels}, 1, 1)")
    return bias


def conv1d(inp, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           conv_mode="cross_correlation", compute_mode="default"):
    """1-D convolution (cross-correlation) of an (N, C, L) input.

    Args:
        inp: (N, C, L).
        weight: (O, C/G, k); grouped also (G, O/G, C/G, k), the layout of M.Conv1d.
        bias: (1, O, 1) or None.
        stride, padding, dilation: int (or a 1-tuple).
        groups: split channels into this many independent convs (C and O divisible by it).
        conv_mode: "cross_correlation" (default) or "convolution" (kernel flipped).
        compute_mode: "default" or "float32" (both accumulate in float32 here).

    Returns:
        (N, O, OL) with OL = (L + 2*padding - dilation*(k - 1) - 1) // stride + 1.

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.arange(10, dtype="float32").reshape(1, 2, 5))
        >>> w = mge.tensor(np.ones((1, 2, 3), "float32"))
        >>> F.conv1d(x, w).numpy()
        array([[[21., 27., 33.]]], dtype=float32)
    """
    fn = "conv1d"
    mode = _check_modes(fn, conv_mode, compute_mode)
    inp, weight = as_tensor(inp, fn), as_tensor(weight, fn)
    check_float(inp, fn)
    check_float(weight, fn)
    if inp.ndim != 3:
        raise ValueError(f"{fn}: expected a 3-D (N, C, L) input, got shape {inp.shape}")
    if weight.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected a 3-D weight (O, C/G, k) or a 4-D grouped weight "
                         f"(G, O/G, C/G, k), got shape {weight.shape}")
    (stride,) = _ntuple(stride, 1, "stride", fn, 1)
    (padding,) = _ntuple(padding, 1, "padding", fn, 0)
    (dilation,) = _ntuple(dilation, 1, "dilation", fn, 1)
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    if weight.ndim == 4:
        o, cg, k = weight.shape[0] * weight.shape[1], weight.shape[2], weight.shape[3]
    else:
        o, cg, k = weight.shape
    if cg * groups != inp.shape[1] or o % groups:
        raise ValueError(f"{fn}: input of shape {inp.shape} and weight of shape {weight.shape} "
                         f"with groups={groups} do not match: expected weight (O, "
                         f"{inp.shape[1] // groups}, k) with O divisible by {groups}")
    length = (inp.shape[2] + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    if length <= 0:
        raise ValueError(f"{fn}: output length {length} is not positive: input length "
                         f"{inp.shape[2]}, kernel {k}, stride {stride}, padding {padding}, "
                         f"dilation {dilation}")
    # a height-1 image, so the kernels' contiguous rows run along the sequence
    x = S.Reshape.apply(inp, shape=tuple(inp.shape[:2]) + (1, inp.shape[2]))
    w = S.Reshape.apply(weight, shape=tuple(weight.shape[:-1]) + (1, k))
    out = conv2d(x, w, None, (1, stride), (0, padding), (1, dilation), groups, mode,
                 compute_mode)
    out = S.Reshape.apply(out, shape=(out.shape[0], out.shape[1], out.shape[3]))
    if bias is None:
        return out
    o = out.shape[1]
    bias = as_tensor(bias, fn, like=out)
    if bias.shape not in ((1, o, 1), (o,)):
        raise ValueError(f"{fn}: bias of shape {bias.shape} does not match {o} output "
                         f"channels; expected (1, {o}, 1)")
    return out + S.Reshape.apply(bias, shape=(1, o, 1))


def conv2d(inp, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           conv_mode="cross_correlation", compute_mode="default"):
    """2-D convolution (cross-correlation, as in deep learning) of an NCHW input.

    ``out[n, o, y, x] = bias[o] + sum over c, i, j of inp_padded[n, c, y*sh + i*dh,
    x*sw + j*dw] * weight[o, c, i, j]``.

    Args:
        inp: the (N, C, H, W) input.
        weight: the (O, C, kh, kw) kernel; with groups, (G, O/G, C/G, kh, kw) as MegEngine
            (engine also takes the flat (O, C/G, kh, kw), which MegEngine rejects).
        bias: the (1, O, 1, 1) bias added to every output position, or None. Default: None
        stride: the step of the sliding window, an int or an (h, w) pair. Default: 1
        padding: zeros added to both sides of H and W, an int or an (h, w) pair. Default: 0
        dilation: the spacing between kernel elements, an int or an (h, w) pair. Default: 1
        groups: split the channels into this many independent convolutions (C and O
            divisible by it). Default: 1
        conv_mode: ``"cross_correlation"`` (the default, MegEngine's only mode); engine also
            takes ``"convolution"`` (the kernel flipped).
        compute_mode: ``"default"`` or ``"float32"``; both accumulate in float32 here.

    Returns:
        the (N, O, OH, OW) output, ``OH = (H + 2*ph - dh*(kh - 1) - 1) // sh + 1`` (likewise
        OW).

    Examples:
        >>> x = Tensor(np.arange(9, dtype="float32").reshape(1, 1, 3, 3))
        >>> w = Tensor(np.arange(4, dtype="float32").reshape(1, 1, 2, 2))
        >>> F.conv2d(x, w).numpy()
        array([[[[19., 25.],
                 [37., 43.]]]], dtype=float32)
        >>> F.conv2d(x, w, bias=Tensor(np.full((1, 1, 1, 1), 10., "float32")),
        ...          padding=(1, 0)).numpy()
        array([[[[13., 18.],
                 [29., 35.],
                 [47., 53.],
                 [17., 18.]]]], dtype=float32)
        >>> x = Tensor(np.ones((1, 2, 5, 5), "float32"))
        >>> y = F.conv2d(x, Tensor(np.ones((3, 2, 3, 3), "float32")), stride=2, padding=1)
        >>> y.shape
        (1, 3, 3, 3)
        >>> float(y[0, 0, 1, 1])
        18.0
        >>> F.conv2d(x, Tensor(np.ones((2, 2, 1, 3, 3), "float32")), groups=2).shape
        (1, 4, 3, 3)
    """
    return _conv2d("conv2d", inp, weight, bias, stride, padding, dilation, groups, conv_mode,
                   compute_mode)


def _conv2d(fn, inp, weight, bias, stride, padding, dilation, groups, conv_mode, compute_mode,
            relu=False):
    """conv2d's checks and op; relu=True applies max(., 0) in the conv's own output pass
    (M.ConvRelu2d): one op, whose saved output also serves the ReLU's gradient."""
    mode = _check_modes(fn, conv_mode, compute_mode)
    inp, weight = _inputs(fn, inp, weight, groups)
    w = _flat_weight(fn, weight, groups, "(G, O/G, C/G, kh, kw)")
    stride = _pair(stride, "stride", fn, 1)
    padding = _pair(padding, "padding", fn, 0)
    dilation = _pair(dilation, "dilation", fn, 1)
    n, c, h, wd = inp.shape
    o, cg, kh, kw = w.shape
    if cg * groups != c:
        raise ValueError(f"{fn}: input of shape {inp.shape} has {c} channels but weight of shape "
                         f"{weight.shape} with groups={groups} expects {cg * groups}")
    if o % groups:
        raise ValueError(f"{fn}: {o} output channels (weight {weight.shape}) are not divisible "
                         f"by groups={groups}")
    out_hw = [(i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
              zip((h, wd), (kh, kw), stride, padding, dilation)]
    if min(out_hw) <= 0:
        raise ValueError(f"{fn}: output size {tuple(out_hw)} is not positive: input {h}x{wd}, "
                         f"kernel {kh}x{kw}, stride {stride}, padding {padding}, "
                         f"dilation {dilation}")
    if mode == "convolution":
        w = S.Flip.apply(w, axis=(2, 3))
    win = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    op = K.Conv2dRelu if relu else K.Conv2d
    if bias is None:
        return op.apply(inp, w, **win)
    return op.apply(inp, w, _add_bias(fn, inp, bias, o), **win)


def conv_transpose2d(inp, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1,
                     groups=1, conv_mode="cross_correlation", compute_mode="default"):
    """2-D transposed convolution (also called deconvolution) of an NCHW input: the adjoint
    of :func:`conv2d`, i.e. its gradient with respect to the input, which scatters each input
    element times the kernel into the (larger) output.

    Args:
        inp: the (N, C, H, W) input.
        weight: the (C, O, kh, kw) kernel; with groups, (G, C/G, O/G, kh, kw) as MegEngine
            (engine also takes the flat (C, O/G, kh, kw)).
        bias: the (1, O, 1, 1) bias, or None. Default: None
        stride: the stride of the conv2d this is the adjoint of, an int or an (h, w) pair.
            Default: 1
        padding: the padding of that conv2d (removed from the output's borders). Default: 0
        output_padding: rows/columns added to one side of the output to pick among the input
            sizes that conv2d maps to the same output size; smaller than stride. Default: 0
        dilation: the spacing between kernel elements. Default: 1
        groups: split the channels into this many independent convolutions. Default: 1
        conv_mode: ``"cross_correlation"`` (the default); engine also takes
            ``"convolution"`` (the kernel flipped).
        compute_mode: ``"default"`` or ``"float32"``; both accumulate in float32 here.

    Returns:
        the (N, O, OH, OW) output,
        ``OH = (H - 1)*sh - 2*ph + dh*(kh - 1) + output_padding_h + 1`` (likewise OW).

    Examples:
        >>> x = Tensor(np.arange(9, dtype="float32").reshape(1, 1, 3, 3))
        >>> w = Tensor(np.arange(4, dtype="float32").reshape(1, 1, 2, 2))
        >>> F.conv_transpose2d(x, w).numpy()
        array([[[[ 0.,  0.,  1.,  2.],
                 [ 0.,  5., 11., 11.],
                 [ 6., 23., 29., 23.],
                 [12., 32., 37., 24.]]]], dtype=float32)
        >>> x = Tensor(np.ones((1, 2, 3, 3), "float32"))
        >>> w = Tensor(np.ones((2, 4, 3, 3), "float32"))
        >>> F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape
        (1, 4, 6, 6)
    """
    fn = "conv_transpose2d"
    mode = _check_modes(fn, conv_mode, compute_mode)
    inp, weight = _inputs(fn, inp, weight, groups)
    w = _flat_weight(fn, weight, groups, "(G, C/G, O/G, kh, kw)")
    stride = _pair(stride, "stride", fn, 1)
    padding = _pair(padding, "padding", fn, 0)
    output_padding = _pair(output_padding, "output_padding", fn, 0)
    dilation = _pair(dilation, "dilation", fn, 1)
    n, c, h, wd = inp.shape
    ci, og, kh, kw = w.shape
    if ci != c:
        raise ValueError(f"{fn}: input of shape {inp.shape} has {c} channels but weight of shape "
                         f"{weight.shape} expects {ci}")
    if c % groups:
        raise ValueError(f"{fn}: {c} input channels are not divisible by groups={groups}")
    if any(op >= s for op, s in zip(output_padding, stride)):
        raise ValueError(f"{fn}: output_padding {output_padding} must be smaller than stride "
                         f"{stride}")
    out_hw = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, d, op in
                   zip((h, wd), (kh, kw), stride, padding, dilation, output_padding))
    if min(out_hw) <= 0:
        raise ValueError(f"{fn}: output size {out_hw} is not positive: input {h}x{wd}, kernel "
                         f"{kh}x{kw}, stride {stride}, padding {padding}, dilation {dilation}")
    if mode == "convolution":
        w = S.Flip.apply(w, axis=(2, 3))
    out = K.Conv2dBackwardData.apply(inp, w, in_hw=out_hw, stride=stride, padding=padding,
                                     dilation=dilation, groups=groups)
    if bias is None:
        return out
    bias = _add_bias(fn, out, bias, og * groups)
    return out + S.Reshape.apply(bias, shape=(1, og * groups, 1, 1))
