"""Array-level 2-D convolution: forward, data gradient (= transposed conv) and filter gradient.

Notation (shapes): x (N, C, H, W), weight (O, C/G, kh, kw), y (N, O, OH, OW), G groups,
Og = O/G output channels and K = C/G*kh*kw column rows per group, P = OH*OW output positions.

On the CPU everything runs on engine's own GEMM (csrc/cpu/gemm*, csrc/cpu/conv_gemm.h):
- forward and filter gradient are implicit GEMMs: the GEMM's packers read the NCHW image and
  gradient directly (no column buffer), and the forward writes (N, O, OH, OW) with the bias
  added in the same pass;
- the data gradient of a stride-1 conv is the forward conv of dy with the flipped, transposed
  filter (again an implicit GEMM); for strided convs the column gradient W^T dY is made a few
  samples at a time and summed back by col2im (csrc/cpu/im2col.cpp);
- depthwise convs (one input channel per group) have too little work per group for a GEMM tile:
  direct loops (csrc/cpu/depthwise.cpp) for all three.
Other array modules (CuPy) take a generic path of strided slices; it computes the same thing and
the tests compare the two.
"""
import math
import threading

import numpy as np

from .._native import native
from ._kernels import f32, to_dtype


class ConvParams:
    """The window of one conv: stride, padding, dilation as pairs, and groups."""

    __slots__ = ("stride", "padding", "dilation", "groups")

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def out_hw(self, in_hw, kernel):
        return tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
                     zip(in_hw, kernel, self.stride, self.padding, self.dilation))

    def window(self, kernel):
        return dict(kernel=kernel, stride=self.stride, padding=self.padding,
                    dilation=self.dilation, groups=self.groups)

    def gemm_window(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups)


def _depthwise(c, p):
    return p.groups > 1 and p.groups == c


# Column buffers (the strided data gradient) are made and consumed a few samples at
# a time: a chunk of about CHUNK_BYTES stays in cache between im2col and its GEMM (or the GEMM and
# col2im), and the per-thread workspaces below are reused across calls instead of page-faulting in
# fresh buffers each time. (1 to 4 MB measured equally fast on a Zen 3 core; 16 MB and unchunked
# were 1.5x slower.)
CHUNK_BYTES = 4 << 20
# A single sample's buffer can exceed CHUNK_BYTES (large images); up to this size it is still
# kept for reuse, beyond it allocated per call so that an odd huge conv does not pin memory.
_WORKSPACE_MAX_BYTES = 64 << 20
_workspaces = threading.local()


def _workspace(role, shape):
    """A float32 scratch array of `shape`, reused for `role` by later calls on this thread."""
    need = math.prod(shape)
    buf = getattr(_workspaces, role, None)
    if buf is None or buf.size < need:
        buf = np.empty(need, np.float32)
        if need * 4 <= _WORKSPACE_MAX_BYTES:
            setattr(_workspaces, role, buf)
    return buf[:need].reshape(shape)


def _chunks(n, bytes_per_sample):
    """[start, stop) sample ranges of at most about CHUNK_BYTES of column buffer each, of equal
    size (16 samples in chunks of 8 + 8 rather than 14 + 2: a thin last GEMM is inefficient)."""
    count = -(-n // max(1, CHUNK_BYTES // max(1, bytes_per_sample)))
    step = max(1, -(-n // max(1, count)))
    return [(i, min(i + step, n)) for i in range(0, n, step)]


def _column_chunks(p, c, kernel, out_hw, n):
    """Per chunk of samples: (start, stop, workspace for its column buffer (G, K, m*P))."""
    g, k, positions = p.groups, c // p.groups * kernel[0] * kernel[1], out_hw[0] * out_hw[1]
    for a, b in _chunks(n, 4 * g * k * positions):
        yield a, b, _workspace("col", (g, k, (b - a) * positions))


def forward(xp, x, w, bias, p, relu=False):
    """y = conv(x, w) + bias (then max(y, 0) when relu); bias is None or holds O values."""
    if xp is not np:
        y = _generic_forward(xp, x, w, bias, p)
        return xp.maximum(y, 0) if relu else y
    c = x.shape[1]
    dtype = x.dtype
    x, w = np.ascontiguousarray(f32(x)), np.ascontiguousarray(f32(w))
    bias = None if bias is None else np.ascontiguousarray(f32(bias).reshape(-1))
    C = native()
    if not _depthwise(c, p):
        y = C.conv2d_gemm_forward(x, w, bias, relu=relu, **p.gemm_window())
    else:
        y = C.depthwise_conv2d_forward(x, w, bias, p.stride, p.padding, p.dilation)
        if relu:
            np.maximum(y, 0, out=y)
    return y if dtype == np.float32 else to_dtype(y, dtype)




# The data gradient by one in-place GEMM per stride phase of dx (csrc/cpu/conv_data_flat.h)
# against the column GEMM + col2im below. Measured (2 threads, phase / column / torch ms):
# 32->64 ch 3x3/2 at 64x64 b16 3.6 / 4.2 / 4.0; 64->128 at 32x32 2.8 / 3.3 / 2.9; 64->64 at
# 200x200 b2 9.0 / 9.8 / 25.0; 128->256 at 16x16 3.4 / 3.2 / 2.6; 256->512 at 50x50 b2
# 15.1 / 11.3 / 12.2; 1x1/2 (one phase of four has a tap) 1.1 / 0.9. So the phases win while
# the largest phase's filter (Cg x Og x its taps) stays within a quarter of L2.
_PHASE_MAX_FILTER_BYTES = 256 << 10


def _phase_data_gradient_wins(c, o, kernel, p):
    path = native().conv_path()  # ENGINE_CONV_PATH=flat / implicit force either (tests)
    if path in ("flat", "implicit"):
        return path == "flat"
    phase_taps = 1
    for k, s, d in zip(kernel, p.stride, p.dilation):
        phase_taps *= -(-k // max(1, s // math.gcd(s, d)))  # taps of the fullest phase
    filter_bytes = c // p.groups * (o // p.groups) * phase_taps * 4
    return kernel[0] * kernel[1] > 1 and filter_bytes <= _PHASE_MAX_FILTER_BYTES


def backward_data(xp, dy, w, in_hw, p):
    """dx of y = conv(x, w) for dy (N, O, OH, OW); also the transposed conv of dy with w."""
    if xp is not np:
        return _generic_backward_data(xp, dy, w, in_hw, p)
    n, o = dy.shape[:2]
    g, kernel = p.groups, w.shape[2:]
    c, in_hw = w.shape[1] * g, tuple(in_hw)
    dtype = dy.dtype
    dy, w = np.ascontiguousarray(f32(dy)), f32(w)
    C = native()
    if _depthwise(c, p):
        dx = C.depthwise_conv2d_backward_data(dy, np.ascontiguousarray(w), (n, c) + in_hw,
                                              p.stride, p.padding, p.dilation)
        return dx if dtype == np.float32 else to_dtype(dx, dtype)
    # stride 1: dx = conv(dy, flipped w^T) with padding d*(k-1) - p, exact when that is >= 0 and
    # the conv's output covers in_hw (it always does for stride 1)
    pad_t = tuple(d * (k - 1) - pd for d, k, pd in zip(p.dilation, kernel, p.padding))
    if p.stride == (1, 1) and min(pad_t) >= 0 and n > 0:
        dx = C.conv2d_gemm_forward(dy, C.conv_flip_filter(w, g), None, stride=(1, 1),
                                   padding=pad_t, dilation=p.dilation, groups=g)
        assert dx.shape[2:] == in_hw, (dx.shape, in_hw)
        return dx if dtype == np.float32 else to_dtype(dx, dtype)
    if n and _phase_data_gradient_wins(c, o, kernel, p):
        dx = C.conv2d_gemm_backward_data(dy, np.ascontiguousarray(w), (n, c) + in_hw, p.stride,
                                         p.padding, p.dilation, g)
        return dx if dtype == np.float32 else to_dtype(dx, dtype)
    wt = w.reshape(g, o // g, -1).transpose(0, 2, 1)                            # (G, K, Og)
    dx = np.empty((n, c) + in_hw, np.float32)
    if n:
        out_hw = dy.shape[2:]
        dy3 = dy.reshape(n, o, -1)
        for a, b, dcol in _column_chunks(p, c, kernel, out_hw, n):
            dyg = C.conv_to_group_major(dy3[a:b], g, out=_workspace(
                "rows", (g, o // g, dcol.shape[2])))                            # (G, Og, m*P)
            C.gemm(wt, dyg, out=dcol)                                         # (G, K, m*P)
            C.conv_col2im(dcol, (b - a, c) + in_hw, out=dx[a:b], **p.window(kernel))
    return dx if dtype == np.float32 else to_dtype(dx, dtype)


def backward_filter(xp, x, dy, kernel, p):
    """dw (O, C/G, kh, kw) of y = conv(x, w)."""
    if xp is not np:
        return _generic_backward_filter(xp, x, dy, kernel, p)
    c, kernel = x.shape[1], tuple(kernel)
    dtype = x.dtype
    x, dy = np.ascontiguousarray(f32(x)), np.ascontiguousarray(f32(dy))
    C = native()
    if _depthwise(c, p):
        dw = C.depthwise_conv2d_backward_filter(x, dy, kernel, p.stride, p.padding, p.dilation)
    else:
        dw = C.conv2d_gemm_backward_filter(x, dy, kernel, **p.gemm_window())
    return dw if dtype == np.float32 else to_dtype(dw, dtype)


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
