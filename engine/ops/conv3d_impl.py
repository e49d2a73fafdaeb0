"""Array-level 3-D convolution: forward, data gradient (= transposed conv) and filter gradient.

The 2-D path (conv_impl.py) one dimension up. Notation: x (N, C, D, H, W), weight
(O, C/G, kd, kh, kw), y (N, O, OD, OH, OW), K = C/G*kd*kh*kw column rows per group,
P = OD*OH*OW output positions. On the CPU the column buffer (G, K, m*P) of a chunk of m samples
comes from csrc/cpu/vol2col.cpp and the groups' products are one batched call of engine's GEMM,
reusing conv_impl's chunking, workspaces and the (G, R, m*P) <-> (m, G*R, P) reorders of
csrc/cpu/im2col.cpp. On a
GPU the same buffer comes from csrc/cuda/vol2col.cu (for the whole batch) and the GEMM is CuPy's;
without our CUDA kernels a generic path of strided slices computes the same thing.
"""
import math

import numpy as np

from .._native import _C, native, stream_ptr
from ._kernels import f32
from .conv_impl import _chunks, _workspace


class Conv3dParams:
    """The window of one 3-D conv: stride, padding, dilation as triples, and groups."""

    __slots__ = ("stride", "padding", "dilation", "groups")

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups

    def out_size(self, in_size, kernel):
        return tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
                     zip(in_size, kernel, self.stride, self.padding, self.dilation))

    def window(self, kernel):
        return dict(kernel=tuple(kernel), stride=self.stride, padding=self.padding,
                    dilation=self.dilation, groups=self.groups)


def _has_cuda_kernels():
    return _C is not None and hasattr(_C, "conv3d_vol2col_cuda")


def _column_chunks(p, c, kernel, out_size, n):
    g, k, positions = p.groups, c // p.groups * math.prod(kernel), math.prod(out_size)
    for a, b in _chunks(n, 4 * g * k * positions):
        yield a, b, _workspace("col", (g, k, (b - a) * positions))


def forward(xp, x, w, bias, p):
    """y = conv3d(x, w) + bias; bias is None or holds O values."""
    n, c = x.shape[:2]
    o, kernel, g = w.shape[0], tuple(w.shape[2:]), p.groups
    out_size = p.out_size(x.shape[2:], kernel)
    if xp is not np:
        if not _has_cuda_kernels():
            return _generic_forward(xp, x, w, bias, p)
        dtype = x.dtype
        col = _cuda_columns(xp, f32(x), kernel, p)
        y = xp.matmul(f32(w).reshape(g, o // g, -1), col)                        # (G, Og, N*P)
        y = y.reshape(o, n, -1).transpose(1, 0, 2).reshape((n, o) + out_size)
        if bias is not None:
            y = y + f32(bias).reshape((1, o, 1, 1, 1))
        return y.astype(dtype, copy=False)
    dtype = x.dtype
    x, w = f32(x), f32(w)
    bias = None if bias is None else f32(bias).reshape(-1)
    y = np.empty((n, o) + out_size, np.float32)
    if n:
        C = native()
        w = w.reshape(g, o // g, -1)                                           # (G, Og, K)
        y3 = y.reshape(n, o, -1)
        for a, b, col in _column_chunks(p, c, kernel, out_size, n):
            C.conv3d_vol2col(x[a:b], out=col, **p.window(kernel))              # (G, K, m*P)
            yg = C.gemm(w, col, out=_workspace("rows", (g, o // g, col.shape[2])))
            C.conv_to_batch_major(yg, b - a, bias, out=y3[a:b])                # (m, O, P)
    return y if dtype == np.float32 else y.astype(dtype)


def backward_data(xp, dy, w, in_size, p):
    """dx of y = conv3d(x, w) for dy (N, O, OD, OH, OW); also conv_transpose3d's forward."""
    n, o = dy.shape[:2]
    g, kernel, in_size = p.groups, tuple(w.shape[2:]), tuple(in_size)
    c = w.shape[1] * g
    if xp is not np:
        if not _has_cuda_kernels():
            return _generic_backward_data(xp, dy, w, in_size, p)
        dtype = dy.dtype
        wt = f32(w).reshape(g, o // g, -1).transpose(0, 2, 1)                   # (G, K, Og)
        dcol = xp.ascontiguousarray(xp.matmul(wt, _cuda_group_major(xp, f32(dy), g)))
        dx = xp.empty((n, c) + in_size, np.float32)
        native().conv3d_col2vol_cuda(dcol.data.ptr, dx.data.ptr, dx.shape, stream=stream_ptr(xp),
                                     **p.window(kernel))
        return dx.astype(dtype, copy=False)
    dtype = dy.dtype
    dy, w = f32(dy), f32(w)
    wt = w.reshape(g, o // g, -1).transpose(0, 2, 1)                            # (G, K, Og)
    dx = np.empty((n, c) + in_size, np.float32)
    if n:
        C = native()
        dy3 = dy.reshape(n, o, -1)
        for a, b, dcol in _column_chunks(p, c, kernel, dy.shape[2:], n):
            dyg = C.conv_to_group_major(dy3[a:b], g, out=_workspace(
                "rows", (g, o // g, dcol.shape[2])))                             # (G, Og, m*P)
            C.gemm(wt, dyg, out=dcol)                                          # (G, K, m*P)
            C.conv3d_col2vol(dcol, (b - a, c) + in_size, out=dx[a:b], **p.window(kernel))
    return dx if dtype == np.float32 else dx.astype(dtype)


def backward_filter(xp, x, dy, kernel, p):
    """dw (O, C/G, kd, kh, kw) of y = conv3d(x, w)."""
    n, c = x.shape[:2]
    o, g, kernel = dy.shape[1], p.groups, tuple(kernel)
    if xp is not np:
        if not _has_cuda_kernels():
            return _generic_backward_filter(xp, x, dy, kernel, p)
        dtype = x.dtype
        col = _cuda_columns(xp, f32(x), kernel, p)                              # (G, K, N*P)
        dw = xp.matmul(_cuda_group_major(xp, f32(dy), g), col.transpose(0, 2, 1))
        return dw.reshape((o, c // g) + kernel).astype(dtype, copy=False)
    dtype = x.dtype
    x, dy = f32(x), f32(dy)
    dw = np.zeros((g, o // g, c // g * math.prod(kernel)), np.float32)         # (G, Og, K)
    if n:
        C = native()
        dy3 = dy.reshape(n, o, -1)
        for a, b, col in _column_chunks(p, c, kernel, dy.shape[2:], n):
            C.conv3d_vol2col(x[a:b], out=col, **p.window(kernel))              # (G, K, m*P)
            dyg = C.conv_to_group_major(dy3[a:b], g, out=_workspace(
                "rows", (g, o // g, col.shape[2])))                             # (G, Og, m*P)
            C.gemm(dyg, col.transpose(0, 2, 1), out=dw, beta=1.0)             # dw += dY col^T
    dw = dw.reshape((o, c // g) + kernel)
    return dw if dtype == np.float32 else dw.astype(dtype)


# CUDA path: the column buffer of the whole batch from csrc/cuda/vol2col.cu.

def _cuda_columns(xp, x, kernel, p):
    x = xp.ascontiguousarray(x)
    n, c = x.shape[:2]
    out_size = p.out_size(x.shape[2:], kernel)
    col = xp.empty((p.groups, c // p.groups * math.prod(kernel), n * math.prod(out_size)),
                   np.float32)
    native().conv3d_vol2col_cuda(x.data.ptr, col.data.ptr, x.shape, stream=stream_ptr(xp),
                                 **p.window(kernel))
    return col


def _cuda_group_major(xp, y, groups):
    """(N, G*R, ...) -> (G, R, N*P)."""
    n, o = y.shape[:2]
    return y.reshape(n, groups, o // groups, -1).transpose(1, 2, 0, 3).reshape(
        groups, o // groups, -1)


# Generic path (any numpy-like xp): the column buffer as (N, G, K, P) built from strided slices.

def _tap_slices(p, kernel, out_size):
    """For each tap (a, b, e): the slice of the padded input that it reads at every output."""
    for tap in np.ndindex(*kernel):
        yield tuple(slice(k * d, k * d + s * (o - 1) + 1, s) for k, d, s, o in
                    zip(tap, p.dilation, p.stride, out_size))


def _generic_columns(xp, x, kernel, p):
    n, c = x.shape[:2]
    out_size = p.out_size(x.shape[2:], kernel)
    xpad = xp.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p.padding))
    taps = [xpad[(slice(None), slice(None)) + s] for s in _tap_slices(p, kernel, out_size)]
    col = xp.stack(taps, axis=2)                                           # (N, C, T, *out)
    return col.reshape(n, p.groups, -1, math.prod(out_size))                 # (N, G, K, P)


def _generic_forward(xp, x, w, bias, p):
    n, o, kernel, g = x.shape[0], w.shape[0], tuple(w.shape[2:]), p.groups
    out_size = p.out_size(x.shape[2:], kernel)
    y = xp.matmul(w.reshape(g, o // g, -1), _generic_columns(xp, x, kernel, p))
    y = y.reshape((n, o) + out_size)
    return y if bias is None else y + bias.reshape((1, o, 1, 1, 1))


def _generic_backward_data(xp, dy, w, in_size, p):
    n, o, g = dy.shape[0], dy.shape[1], p.groups
    c, kernel, out_size = w.shape[1] * g, tuple(w.shape[2:]), tuple(dy.shape[2:])
    wt = w.reshape(g, o // g, -1).transpose(0, 2, 1)
    dcol = xp.matmul(wt, dy.reshape(n, g, o // g, -1))                         # (N, G, K, P)
    dcol = dcol.reshape((n, c, math.prod(kernel)) + out_size)
    padded = tuple(i + 2 * q for i, q in zip(in_size, p.padding))
    dpad = xp.zeros((n, c) + padded, dy.dtype)
    for t, s in enumerate(_tap_slices(p, kernel, out_size)):
        dpad[(slice(None), slice(None)) + s] += dcol[:, :, t]
    return dpad[(slice(None), slice(None)) + tuple(slice(q, q + i) for q, i in
                                                   zip(p.padding, in_size))]


def _generic_backward_filter(xp, x, dy, kernel, p):
    n, c, o, g = x.shape[0], x.shape[1], dy.shape[1], p.groups
    col = _generic_columns(xp, x, kernel, p)                                   # (N, G, K, P)
    dw = xp.matmul(dy.reshape(n, g, o // g, -1), col.transpose(0, 1, 3, 2)).sum(0)
    return dw.reshape((o, c // g) + tuple(kernel))
