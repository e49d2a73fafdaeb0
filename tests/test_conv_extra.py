"""conv1d, conv3d / conv_transpose3d, sliding_window(_transpose), local_conv2d,
region_restricted_conv and deformable_conv2d: op-table rows against float64 numpy references
(gradients by finite differences), torch comparisons where torch has the op, the native kernels
against references, the layers against torch, and the CUDA kernels against the CPU ones."""
import numpy as np
import pytest
import torch
from optable import Case, U, check_case, gens
from test_conv import _compare, _engine_grads, _torch_grads

import engine as mge
import engine.functional as F
import engine.module as M
from engine._native import native
from engine.autodiff import GradManager
from engine.ops import conv3d_impl, conv_impl


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _out_size(in_size, kernel, stride, padding, dilation):
    return tuple((i + 2 * p - d * (k - 1) - 1) // s + 1 for i, k, s, p, d in
                 zip(in_size, kernel, stride, padding, dilation))


def convnd_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct float64 1-, 2- or 3-D conv: for each kernel tap, the strided slice of the padded
    input it reads, contracted with that tap's weights (flat weight (O, C/G, *k))."""
    nd = x.ndim - 2
    s, p, d = _tuple(stride, nd), _tuple(padding, nd), _tuple(dilation, nd)
    n, o, cg, kernel = x.shape[0], w.shape[0], w.shape[1], w.shape[2:]
    out = _out_size(x.shape[2:], kernel, s, p, d)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((q, q) for q in p))
    y = np.zeros((n, o) + out)
    og = o // groups
    for g in range(groups):
        for tap in np.ndindex(*kernel):
            sl = tuple(slice(t * dd, t * dd + ss * (oo - 1) + 1, ss)
                       for t, dd, ss, oo in zip(tap, d, s, out))
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + sl]
            wt = w[(slice(g * og, (g + 1) * og), slice(None)) + tap]
            y[:, g * og:(g + 1) * og] += np.einsum("nc...,oc->no...", patch, wt)
    return y if b is None else y + b.reshape((1, o) + (1,) * nd)


def conv_transpose3d_ref(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1,
                         groups=1):
    """Direct float64 transposed 3-D conv: every input voxel scatters x * w into the output
    (flat weight (C, O/G, *k))."""
    s, p, d = _tuple(stride, 3), _tuple(padding, 3), _tuple(dilation, 3)
    op = _tuple(output_padding, 3)
    n, c, og, kernel = x.shape[0], x.shape[1], w.shape[1], w.shape[2:]
    o, cg = og * groups, c // groups
    out = tuple((i - 1) * ss - 2 * pp + dd * (k - 1) + q + 1 for i, ss, pp, dd, k, q in
                zip(x.shape[2:], s, p, d, kernel, op))
    full = np.zeros((n, o) + tuple(oo + 2 * pp + ss + dd * k for oo, pp, ss, dd, k in
                                   zip(out, p, s, d, kernel)))
    for g in range(groups):
        for tap in np.ndindex(*kernel):
            sl = tuple(slice(t * dd, t * dd + ss * i, ss)
                       for t, dd, ss, i in zip(tap, d, s, x.shape[2:]))
            wt = w[(slice(g * cg, (g + 1) * cg), slice(None)) + tap]
            full[(slice(None), slice(g * og, (g + 1) * og)) + sl] += np.einsum(
                "nc...,co->no...", x[:, g * cg:(g + 1) * cg], wt)
    y = full[(slice(None), slice(None)) + tuple(slice(pp, pp + oo) for pp, oo in zip(p, out))]
    return y if b is None else y + b.reshape(1, o, 1, 1, 1)


def windows_ref(x, kernel, padding=0, stride=1, dilation=1, fill=0):
    """(N, C, H, W) -> (N, C, OH, OW, kh, kw) by explicit loops over outputs and taps."""
    k, p, s, d = _tuple(kernel, 2), _tuple(padding, 2), _tuple(stride, 2), _tuple(dilation, 2)
    out = _out_size(x.shape[2:], k, s, p, d)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    y = np.zeros(x.shape[:2] + out + k, x.dtype)
    for i in range(out[0]):
        for j in range(out[1]):
            for a in range(k[0]):
                for b in range(k[1]):
                    y[:, :, i, j, a, b] = xp[:, :, i * s[0] + a * d[0], j * s[1] + b * d[1]]
    return y


def windows_transpose_ref(cols, out_hw, kernel, padding=0, stride=1, dilation=1):
    k, p, s, d = _tuple(kernel, 2), _tuple(padding, 2), _tuple(stride, 2), _tuple(dilation, 2)
    h, w = _tuple(out_hw, 2)
    y = np.zeros(cols.shape[:2] + (h + 2 * p[0], w + 2 * p[1]))
    for i in range(cols.shape[2]):
        for j in range(cols.shape[3]):
            for a in range(k[0]):
                for b in range(k[1]):
                    y[:, :, i * s[0] + a * d[0], j * s[1] + b * d[1]] += cols[:, :, i, j, a, b]
    return y[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


def local_conv_ref(x, w, stride=1, padding=0, dilation=1):
    """weight (G, OH, OW, C/G, kh, kw, O/G): an own kernel per output position."""
    g, oh, ow, cg, kh, kw, og = w.shape
    cols = windows_ref(x, (kh, kw), padding, stride, dilation)         # (N, C, OH, OW, kh, kw)
    cols = cols.reshape(x.shape[0], g, cg, oh, ow, kh, kw)
    y = np.einsum("ngcijab,gijcabo->ngoij", cols, w)
    return y.reshape(x.shape[0], g * og, oh, ow)


def region_conv_ref(x, w, rin, rout, stride=1, padding=0, dilation=1):
    """weight (G, O/G, C/G, kh, kw); a tap counts when its input's region id equals the
    output's (padding has no region: id -1)."""
    g, og, cg, kh, kw = w.shape
    cols = windows_ref(x, (kh, kw), padding, stride, dilation)
    ids = windows_ref(rin[:, None].astype(np.int64), (kh, kw), padding, stride, dilation, -1)
    keep = ids == rout[:, None, :, :, None, None].astype(np.int64)
    n, _, oh, ow = cols.shape[:4]
    cols = (cols * keep).reshape(n, g, cg, oh, ow, kh, kw)
    return np.einsum("ngcijab,gocab->ngoij", cols, w).reshape(n, g * og, oh, ow)


def bilinear_ref(img, h, w):
    """img (C, H, W) sampled at points (h, w) (arrays of one shape): zero outside the image and
    for points outside -1 < h < H, -1 < w < W."""
    _, height, width = img.shape
    inside = (h > -1) & (w > -1) & (h < height) & (w < width)
    h0, w0 = np.floor(h).astype(np.int64), np.floor(w).astype(np.int64)
    out = np.zeros(img.shape[:1] + h.shape)
    for hh in (h0, h0 + 1):
        for ww in (w0, w0 + 1):
            weight = (1 - np.abs(h - hh)) * (1 - np.abs(w - ww))
            ok = inside & (hh >= 0) & (hh < height) & (ww >= 0) & (ww < width)
            vals = img[:, np.clip(hh, 0, height - 1), np.clip(ww, 0, width - 1)]
            out += np.where(ok, weight * vals, 0.0)
    return out


def deform_cols_ref(x, offset, mask, kernel, stride=1, padding=0, dilation=1):
    """(N, C, T, OH, OW): tap t of output (i, j) samples x at its offset position, times mask."""
    (kh, kw), s, p, d = kernel, _tuple(stride, 2), _tuple(padding, 2), _tuple(dilation, 2)
    n, c = x.shape[:2]
    oh, ow = offset.shape[2:]
    taps = kh * kw
    dg = mask.shape[1] // taps
    off = offset.reshape(n, dg, taps, 2, oh, ow)
    m = mask.reshape(n, dg, taps, oh, ow)
    ii, jj = np.meshgrid(np.arange(oh), np.arange(ow), indexing="ij")
    cols = np.zeros((n, c, taps, oh, ow))
    cpg = c // dg
    for b in range(n):
        for g in range(dg):
            for t in range(taps):
                a, e = divmod(t, kw)
                h = ii * s[0] - p[0] + a * d[0] + off[b, g, t, 0]
                w = jj * s[1] - p[1] + e * d[1] + off[b, g, t, 1]
                cols[b, g * cpg:(g + 1) * cpg, t] = m[b, g, t] * bilinear_ref(
                    x[b, g * cpg:(g + 1) * cpg], h, w)
    return cols


def deform_conv_ref(x, w, offset, mask, b=None, stride=1, padding=0, dilation=1, groups=1):
    o, cg, kh, kw = w.shape
    cols = deform_cols_ref(x, offset, mask, (kh, kw), stride, padding, dilation)
    n, _, _, oh, ow = cols.shape
    cols = cols.reshape(n, groups, cg * kh * kw, oh * ow)
    y = np.einsum("gok,ngkp->ngop", w.reshape(groups, o // groups, -1), cols)
    y = y.reshape(n, o, oh, ow)
    return y if b is None else y + b.reshape(1, o, 1, 1)


def deform_offsets(*shape):
    """Offsets whose sample points stay away from pixel lines (and so from the kinks of bilinear
    interpolation), so that finite differences are clean."""
    return lambda rng: rng.integers(-2, 2, shape) + rng.uniform(0.2, 0.8, shape)


def regions(*shape):
    return lambda rng: rng.integers(0, 3, shape).astype(np.int32)


CONV2D_OPS = ("Conv2d", "Conv2dBackwardData", "Conv2dBackwardFilter")
CONV3D_OPS = ("Conv3d", "Conv3dBackwardData", "Conv3dBackwardFilter")
WINDOW_OPS = ("SlidingWindow", "SlidingWindowTranspose")

CASES = [
    Case("conv1d", gens(U(2, 4, 9), U(6, 2, 3), U(1, 6, 1)),
         lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=2, dilation=2, groups=2),
         lambda x, w, b: convnd_ref(x, w, b, 2, 2, 2, 2), CONV2D_OPS, grad=(0, 1, 2), atol=1e-5),
    Case("conv3d", gens(U(2, 4, 4, 5, 4), U(6, 2, 2, 3, 2), U(1, 6, 1, 1, 1)),
         lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 1, 0),
                                  dilation=(2, 1, 1), groups=2),
         lambda x, w, b: convnd_ref(x, w, b, (1, 2, 1), (1, 1, 0), (2, 1, 1), 2), CONV3D_OPS,
         grad=(0, 1, 2), atol=1e-5),
    Case("conv_transpose3d", gens(U(2, 4, 2, 3, 2), U(4, 3, 2, 2, 3), U(1, 3, 1, 1, 1)),
         lambda x, w, b: F.conv_transpose3d(x, w, b, stride=(2, 1, 2), padding=(1, 0, 1),
                                            output_padding=(1, 0, 0)),
         lambda x, w, b: conv_transpose3d_ref(x, w, b, (2, 1, 2), (1, 0, 1), (1, 0, 0)),
         CONV3D_OPS, grad=(0, 1, 2), atol=1e-5),
    Case("conv_transpose3d_grouped_dilated", gens(U(1, 4, 3, 2, 3), U(2, 2, 3, 2, 2, 2)),
         lambda x, w: F.conv_transpose3d(x, w, dilation=(1, 2, 1), groups=2),
         lambda x, w: conv_transpose3d_ref(x, w.reshape(4, 3, 2, 2, 2), None, 1, 0, 0,
                                           (1, 2, 1), 2), CONV3D_OPS, grad=(0, 1), atol=1e-5),
    Case("sliding_window", gens(U(2, 3, 5, 6)),
         lambda x: F.sliding_window(x, (2, 3), padding=1, stride=(1, 2), dilation=(2, 1)),
         lambda x: windows_ref(x, (2, 3), 1, (1, 2), (2, 1)), WINDOW_OPS, grad=(0,)),
    Case("sliding_window_transpose", gens(U(2, 3, 5, 3, 2, 3)),
         lambda x: F.sliding_window_transpose(x, (5, 6), (2, 3), 1, (1, 2), (2, 1)),
         lambda x: windows_transpose_ref(x, (5, 6), (2, 3), 1, (1, 2), (2, 1)), WINDOW_OPS,
         grad=(0,)),
    Case("local_conv2d", gens(U(2, 4, 5, 6), U(2, 5, 3, 2, 3, 2, 3), U(1, 6, 1, 1)),
         lambda x, w, b: F.local_conv2d(x, w, b, stride=(1, 2), padding=(1, 0)),
         lambda x, w, b: local_conv_ref(x, w, (1, 2), (1, 0)) + b,
         WINDOW_OPS + ("Matmul",), grad=(0, 1, 2), atol=1e-5),
    Case("region_restricted_conv", gens(U(2, 4, 5, 5), U(2, 3, 2, 3, 3), regions(2, 5, 5),
                                        regions(2, 3, 5)),
         lambda x, w, rin, rout: F.region_restricted_conv(x, w, rin, rout, stride=(2, 1),
                                                          padding=1, groups=2),
         lambda x, w, rin, rout: region_conv_ref(x, w, rin, rout, (2, 1), 1),
         WINDOW_OPS + ("Matmul",), grad=(0, 1), atol=1e-5),
    Case("deformable_conv2d", gens(U(1, 4, 3, 4), U(6, 2, 3, 3), deform_offsets(1, 36, 3, 4),
                                   U(1, 18, 3, 4, lo=0.0, hi=1.0), U(1, 6, 1, 1)),
         lambda x, w, off, m, b: F.deformable_conv2d(x, w, off, m, b, padding=1, groups=2),
         lambda x, w, off, m, b: deform_conv_ref(x, w, off, m, b, padding=1, groups=2),
         ("DeformIm2col", "DeformIm2colGrad", "Matmul"), grad=(0, 1, 2, 3, 4), atol=1e-5),
    Case("deformable_conv2d_strided_dilated", gens(U(2, 2, 6, 5), U(3, 2, 2, 2),
                                                   deform_offsets(2, 8, 2, 4),
                                                   U(2, 4, 2, 4, lo=0.0, hi=1.0)),
         lambda x, w, off, m: F.deformable_conv2d(x, w, off, m, stride=(2, 1), dilation=(2, 1)),
         lambda x, w, off, m: deform_conv_ref(x, w, off, m, None, (2, 1), 0, (2, 1)),
         ("DeformIm2col", "DeformIm2colGrad"), grad=(0, 1, 2, 3), atol=1e-5),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, device, monkeypatch):
    check_case(case, device, monkeypatch)
