"""Sliding windows (MegEngine's Images2Neibs and SlidingWindowTranspose), each the other's
gradient:

    SlidingWindow(x)            (N, C, H, W) -> (N, C, OH, OW, kh, kw): the window of every output
    SlidingWindowTranspose(c)   (N, C, OH, OW, kh, kw) -> (N, C, H, W): windows summed back

SlidingWindow is im2col itself: on the CPU its values come from the conv kernels
(csrc/cpu/im2col.cpp, one group), reordered from the column layout (C, kh, kw, N, OH, OW); other
array modules take strided slices. The transpose (col2im) is one strided add per tap on every
array module, in the summation order of MegEngine's kernel. Attributes: kernel, stride, padding,
dilation (pairs).
"""
import numpy as np

from .. import dtype as _dt
from .._native import native
from ._kernels import f32
from .core import Op


def _out_hw(in_hw, kernel, stride, padding, dilation):
    return tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
                 zip(in_hw, kernel, stride, padding, dilation))


def _tap_slices(kernel, stride, dilation, out_hw):
    for ki in range(kernel[0]):
        for kj in range(kernel[1]):
            yield ki, kj, tuple(slice(k * d, k * d + s * (o - 1) + 1, s) for k, d, s, o in
                                zip((ki, kj), dilation, stride, out_hw))


def windows(xp, x, kernel, stride, padding, dilation):
    """(N, C, H, W) -> (N, C, OH, OW, kh, kw) for any dtype (zero padding)."""
    n, c, h, w = x.shape
    out_hw = _out_hw((h, w), kernel, stride, padding, dilation)
    if xp is np and _dt.is_float(x.dtype):  # bfloat16 too (numpy gives it kind "V")
        dtype = x.dtype
        col = native().conv_im2col(f32(x), kernel, stride, padding, dilation, 1)   # (1, CT, NP)
        col = col.reshape((c,) + tuple(kernel) + (n,) + out_hw)
        out = np.ascontiguousarray(col.transpose(3, 0, 4, 5, 1, 2))
        return out if dtype == np.float32 else out.astype(dtype)
    (ph, pw) = padding
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = xp.empty((n, c) + out_hw + tuple(kernel), x.dtype)
    for ki, kj, (si, sj) in _tap_slices(kernel, stride, dilation, out_hw):
        out[..., ki, kj] = xpad[:, :, si, sj]
    return out


def windows_transpose(xp, cols, out_hw, kernel, stride, padding, dilation):
    """(N, C, OH, OW, kh, kw) -> (N, C, H, W): every window entry added to the pixel it covers.

    One strided add per tap, taps in reverse order: a pixel then sums its entries in the order
    of MegEngine's kernel (outputs ascending, i.e. taps descending), so results match it bit for
    bit (its tests compare exactly)."""
    n, c, oh, ow = cols.shape[:4]
    (ph, pw), (h, w) = padding, out_hw
    dtype = cols.dtype
    acc = np.float32 if dtype in _dt._LOW_SET else dtype        # float16/bfloat16 sum in f32
    pad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), acc)
    for ki, kj, (si, sj) in reversed(list(_tap_slices(kernel, stride, dilation, (oh, ow)))):
        pad[:, :, si, sj] += cols[..., ki, kj]
    out = pad[:, :, ph:ph + h, pw:pw + w]
    return out if acc == dtype else out.astype(dtype)


class SlidingWindow(Op):
    """(N, C, H, W) -> (N, C, OH, OW, kh, kw)."""

    def forward(xp, x, kernel, stride, padding, dilation):
        return windows(xp, x, kernel, stride, padding, dilation)

    def backward(ctx, dy):
        x = ctx.inputs[0]
        return SlidingWindowTranspose.apply(dy, out_hw=tuple(x.shape[2:]), **ctx.attrs)


class SlidingWindowTranspose(Op):
    """(N, C, OH, OW, kh, kw) -> (N, C, *out_hw), the adjoint of SlidingWindow."""

    def forward(xp, cols, out_hw, kernel, stride, padding, dilation):
        return windows_transpose(xp, cols, out_hw, kernel, stride, padding, dilation)

    def backward(ctx, dy):
        attrs = {k: v for k, v in ctx.attrs.items() if k != "out_hw"}
        return SlidingWindow.apply(dy, **attrs)
