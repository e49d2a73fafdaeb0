"""Array-level 2-D convolution: forward, data gradient (= transposed conv) and filter gradient.

Notation (shapes): x (N, C, H, W), weight (O, C/G, kh, kw), y (N, O, OH, OW), G groups,
Og = O/G output channels and K = C/G*kh*kw column rows per group, P = OH*OW output positions.

On the CPU the column buffer comes from our kernels (csrc/cpu/im2col.cpp) in the "group-major"
layout (G, K, N*P), so each group is ONE large GEMM through numpy's BLAS instead of N small ones;
csrc also reorders (G, Og, N*P) <-> (N, O, P) in parallel, fusing the bias add. A 1x1, stride-1,
unpadded conv needs no im2col: x itself is the column buffer. Other array modules (CuPy) take a
generic path of strided slices; it computes the same thing and the tests compare the two.
"""
import numpy as np

from .._native import native


class ConvParams:
    """The window of one conv: stride, padding, dilation as pairs, and groups."""

    __slots__ = ("stride", "padding", "dilation", "groups")

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def out_hw(self, in_hw, kernel):
        return tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
                     zip(in_hw, kernel, self.stride, self.padding, self.dilation))

    def is_pointwise(self, kernel):
        """1x1, stride 1, no padding: the input is already the column buffer."""
        return kernel == (1, 1) and self.stride == (1, 1) and self.padding == (0, 0)

    def window(self, kernel):
        return dict(kernel=kernel, stride=self.stride, padding=self.padding,
                    dilation=self.dilation, groups=self.groups)


def _float32(a):
    return a if a.dtype == np.float32 else a.astype(np.float32)


def forward(xp, x, w, bias, p):
    """y = conv(x, w) + bias; bias is None or holds O values."""
    n, c = x.shape[:2]
    o, kernel = w.shape[0], w.shape[2:]
    oh, ow = p.out_hw(x.shape[2:], kernel)
    if xp is not np:
        return _generic_forward(xp, x, w, bias, p)
    dtype = x.dtype
    x, w = _float32(x), _float32(w)
    bias = None if bias is None else _float32(bias).reshape(-1)
    g = p.groups
    if n == 0:
        y = np.zeros((0, o, oh, ow), np.float32)
    elif p.is_pointwise(kernel):
        # (G, Og, C/G) @ (N, G, C/G, HW) -> (N, G, Og, HW): already NCHW
        y = np.matmul(w.reshape(g, o // g, c // g), x.reshape(n, g, c // g, oh * ow))
        y = y.reshape(n, o, oh, ow)
        if bias is not None:
            y += bias.reshape(1, o, 1, 1)
    else:
        C = native()
        col = C.conv_im2col(x, batch_major=False, **p.window(kernel))       # (G, K, N*P)
        y = np.matmul(w.reshape(g, o // g, -1), col)                          # (G, Og, N*P)
        y = C.conv_to_batch_major(y, n, bias).reshape(n, o, oh, ow)
    return y if dtype == np.float32 else y.astype(dtype)


def backward_data(xp, dy, w, in_hw, p):
    """dx of y = conv(x, w) for dy (N, O, OH, OW); also the transposed conv of dy with w."""
    n, o = dy.shape[:2]
    c, kernel = w.shape[1] * p.groups, w.shape[2:]
    if xp is not np:
        return _generic_backward_data(xp, dy, w, in_hw, p)
    dtype = dy.dtype
    dy, w = _float32(dy), _float32(w)
    g = p.groups
    wt = w.reshape(g, o // g, -1).transpose(0, 2, 1)                            # (G, K, Og)
    if n == 0:
        dx = np.zeros((0, c) + tuple(in_hw), np.float32)
    elif p.is_pointwise(kernel):
        dx = np.matmul(wt, dy.reshape(n, g, o // g, -1)).reshape((n, c) + tuple(in_hw))
    else:
        C = native()
        dyg = C.conv_to_group_major(dy.reshape(n, o, -1), g)                  # (G, Og, N*P)
        dcol = np.matmul(wt, dyg)                                             # (G, K, N*P)
        dx = C.conv_col2im(dcol, (n, c) + tuple(in_hw), batch_major=False, **p.window(kernel))
    return dx if dtype == np.float32 else dx.astype(dtype)


def backward_filter(xp, x, dy, kernel, p):
    """dw (O, C/G, kh, kw) of y = conv(x, w)."""
    n, c = x.shape[:2]
    o, g = dy.shape[1], p.groups
    if xp is not np:
        return _generic_backward_filter(xp, x, dy, kernel, p)
    dtype = x.dtype
    x, dy = _float32(x), _float32(dy)
    if n == 0:
        dw = np.zeros((o, c // g) + tuple(kernel), np.float32)
    elif p.is_pointwise(kernel):
        # sum over samples of (Og, HW) @ (HW, C/G), as one GEMM over (N*HW) per group
        C = native()
        dyg = C.conv_to_group_major(dy.reshape(n, o, -1), g)                  # (G, Og, N*HW)
        xg = C.conv_to_group_major(x.reshape(n, c, -1), g)                    # (G, C/G, N*HW)
        dw = np.matmul(dyg, xg.transpose(0, 2, 1))
    else:
        C = native()
        col = C.conv_im2col(x, batch_major=False, **p.window(kernel))       # (G, K, N*P)
        dyg = C.conv_to_group_major(dy.reshape(n, o, -1), g)                  # (G, Og, N*P)
        dw = np.matmul(dyg, col.transpose(0, 2, 1))                           # (G, Og, K)
    dw = dw.reshape((o, c // g) + tuple(kernel))
    return dw if dtype == np.float32 else dw.astype(dtype)


# Generic path (any numpy-like xp): the column buffer as (N, G, K, P) built from strided slices.

def _tap_slices(p, kernel, out_hw):
    """For each tap (ki, kj): the slice of the padded input that it reads at every output."""
    (sh, sw), (dh, dw), (oh, ow) = p.stride, p.dilation, out_hw
    for ki in range(kernel[0]):
        for kj in range(kernel[1]):
            yield (slice(ki * dh, ki * dh + sh * (oh - 1) + 1, sh),
                   slice(kj * dw, kj * dw + sw * (ow - 1) + 1, sw))


def _generic_columns(xp, x, kernel, p):
    n, c = x.shape[:2]
    out_hw = p.out_hw(x.shape[2:], kernel)
    (ph, pw), g = p.padding, p.groups
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    taps = [xpad[:, :, si, sj] for si, sj in _tap_slices(p, kernel, out_hw)]
    col = xp.stack(taps, axis=2)                                               # (N, C, T, OH, OW)
    return col.reshape(n, g, -1, out_hw[0] * out_hw[1])                       # (N, G, K, P)


def _generic_forward(xp, x, w, bias, p):
    n, o, kernel, g = x.shape[0], w.shape[0], w.shape[2:], p.groups
    out_hw = p.out_hw(x.shape[2:], kernel)
    y = xp.matmul(w.reshape(g, o // g, -1), _generic_columns(xp, x, kernel, p))
    y = y.reshape((n, o) + out_hw)
    return y if bias is None else y + bias.reshape(1, o, 1, 1)


def _generic_backward_data(xp, dy, w, in_hw, p):
    n, o, g = dy.shape[0], dy.shape[1], p.groups
    c, kernel = w.shape[1] * g, w.shape[2:]
    out_hw = dy.shape[2:]
    wt = w.reshape(g, o // g, -1).transpose(0, 2, 1)
    dcol = xp.matmul(wt, dy.reshape(n, g, o // g, -1))                         # (N, G, K, P)
    dcol = dcol.reshape((n, c, kernel[0] * kernel[1]) + tuple(out_hw))
    (ph, pw), (h, wd) = p.padding, in_hw
    # rows/cols past the last tap's reach stay zero (an input that no output window covers)
    dpad = xp.zeros((n, c, h + 2 * ph, wd + 2 * pw), dy.dtype)
    for t, (si, sj) in enumerate(_tap_slices(p, kernel, out_hw)):
        dpad[:, :, si, sj] += dcol[:, :, t]
    return dpad[:, :, ph:ph + h, pw:pw + wd]


def _generic_backward_filter(xp, x, dy, kernel, p):
    n, c, o, g = x.shape[0], x.shape[1], dy.shape[1], p.groups
    col = _generic_columns(xp, x, kernel, p)                                   # (N, G, K, P)
    dw = xp.matmul(dy.reshape(n, g, o // g, -1), col.transpose(0, 1, 3, 2)).sum(0)
    return dw.reshape((o, c // g) + tuple(kernel))
