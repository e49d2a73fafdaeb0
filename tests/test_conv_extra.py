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


# ---------------------------------------------------------------- torch comparisons

# (input shape, weight shape (torch layout), bias, stride, padding, dilation, groups)
TORCH_CONV1D = [
    ((2, 3, 11), (4, 3, 3), True, 1, 1, 1, 1),
    ((3, 4, 16), (6, 2, 5), False, 3, 2, 2, 2),
    ((2, 6, 7), (6, 1, 3), True, 1, 1, 1, 6),           # depthwise
    ((0, 3, 8), (4, 3, 3), True, 1, 0, 1, 1),           # empty batch
]
TORCH_CONV3D = [
    ((2, 3, 5, 6, 7), (4, 3, 3, 3, 3), True, 1, 1, 1, 1),
    ((2, 4, 7, 6, 5), (6, 2, 3, 2, 3), False, (2, 1, 2), (1, 0, 2), (1, 2, 1), 2),
    ((1, 4, 6, 6, 6), (4, 1, 3, 3, 3), True, 2, 1, 1, 4),                  # depthwise
    ((2, 8, 3, 4, 5), (6, 8, 1, 1, 1), True, 1, 0, 1, 1),                  # pointwise
    ((2, 16, 8, 8, 8), (16, 16, 3, 3, 3), True, 1, 1, 1, 1),               # OpenMP-sized
    ((1, 2, 2, 2, 2), (3, 2, 3, 3, 3), False, 1, 2, 1, 1),                 # padding > input
]
TORCH_CONVT3D = [
    # (input, weight (C, O/G, *k), bias, stride, padding, output_padding, dilation, groups)
    ((2, 3, 3, 4, 3), (3, 4, 3, 3, 3), True, 2, 1, 1, 1, 1),
    ((1, 4, 3, 3, 4), (4, 3, 2, 3, 2), False, (1, 2, 2), (0, 1, 0), (0, 1, 0), (2, 1, 1), 2),
    ((2, 6, 2, 3, 2), (6, 1, 3, 3, 3), True, 1, 1, 0, 1, 6),
]


@pytest.mark.parametrize("xs,ws,bias,stride,padding,dilation,groups", TORCH_CONV1D)
def test_conv1d_matches_torch(xs, ws, bias, stride, padding, dilation, groups):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs, np.float32), rng.standard_normal(ws, np.float32)
    b = rng.standard_normal((1, ws[0], 1), np.float32) if bias else None
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = convnd_ref(x.astype(np.float64), w.astype(np.float64), b, **kw)
    dy = rng.standard_normal(y.shape, np.float32)
    _compare(_engine_grads(F.conv1d, x, w, b, dy, **kw),
             _torch_grads(torch.nn.functional.conv1d, x, w, b, dy, **kw))


@pytest.mark.parametrize("xs,ws,bias,stride,padding,dilation,groups", TORCH_CONV3D)
def test_conv3d_matches_torch(xs, ws, bias, stride, padding, dilation, groups):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(xs, np.float32), rng.standard_normal(ws, np.float32)
    b = rng.standard_normal((1, ws[0], 1, 1, 1), np.float32) if bias else None
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    ty = torch.nn.functional.conv3d(torch.tensor(x), torch.tensor(w), None, **kw)
    dy = rng.standard_normal(ty.shape, np.float32)
    _compare(_engine_grads(F.conv3d, x, w, b, dy, **kw),
             _torch_grads(torch.nn.functional.conv3d, x, w, b, dy, **kw))


@pytest.mark.parametrize("xs,ws,bias,stride,padding,output_padding,dilation,groups",
                         TORCH_CONVT3D)
def test_conv_transpose3d_matches_torch(xs, ws, bias, stride, padding, output_padding,
                                        dilation, groups):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(xs, np.float32), rng.standard_normal(ws, np.float32)
    b = rng.standard_normal((1, ws[1] * groups, 1, 1, 1), np.float32) if bias else None
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation,
              groups=groups)
    ty = torch.nn.functional.conv_transpose3d(torch.tensor(x), torch.tensor(w), None, **kw)
    dy = rng.standard_normal(ty.shape, np.float32)
    _compare(_engine_grads(F.conv_transpose3d, x, w, b, dy, **kw),
             _torch_grads(torch.nn.functional.conv_transpose3d, x, w, b, dy, **kw))


def test_conv3d_second_order_grads_match_torch():
    """d/dx of <grad_w, v>: grads of grads through the three 3-D conv ops."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 4, 4, 5, 4), np.float32)
    w = rng.standard_normal((6, 2, 2, 3, 2), np.float32)
    v = rng.standard_normal(w.shape, np.float32)
    kw = dict(stride=(1, 2, 1), padding=1, groups=2)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    (gw,) = torch.autograd.grad(torch.nn.functional.conv3d(tx, tw, **kw).square().sum(), tw,
                                create_graph=True)
    (gx,) = torch.autograd.grad((gw * torch.tensor(v)).sum(), tx)
    ex, ew = mge.tensor(x), mge.tensor(w)
    with GradManager().attach([ex]) as outer:
        with GradManager().attach([ew]) as inner:
            inner.backward(F.square(F.conv3d(ex, ew, **kw)).sum())
        outer.backward((ew.grad * mge.tensor(v)).sum())
    np.testing.assert_allclose(ex.grad.numpy(), gx.numpy(), rtol=1e-4, atol=1e-3)


def test_sliding_windows_match_torch_unfold_and_fold():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 8), np.float32)
    win = dict(kernel_size=(3, 2), padding=(1, 2), stride=(2, 1), dilation=(1, 2))
    y = F.sliding_window(mge.tensor(x), **win).numpy()                 # (N, C, OH, OW, 3, 2)
    t = torch.nn.functional.unfold(torch.tensor(x), **win).numpy()     # (N, C*6, OH*OW)
    n, c, oh, ow = y.shape[:4]
    np.testing.assert_array_equal(y, t.reshape(n, c, 3, 2, oh, ow).transpose(0, 1, 4, 5, 2, 3))
    cols = rng.standard_normal(y.shape, np.float32)
    back = F.sliding_window_transpose(mge.tensor(cols), (7, 8), **win).numpy()
    tcols = torch.tensor(np.ascontiguousarray(cols.transpose(0, 1, 4, 5, 2, 3)).reshape(t.shape))
    np.testing.assert_allclose(back, torch.nn.functional.fold(tcols, (7, 8), **win).numpy(),
                               rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- native kernels

def test_vol2col_entries_and_col2vol_adjoint():
    """vol2col's (G, K, N*P) buffer holds the windows of x (zero padding), col2vol is its
    adjoint, and both write into a given `out`."""
    C = native()
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 5, 6, 4), np.float32)
    win = dict(kernel=(2, 3, 2), stride=(2, 1, 1), padding=(1, 2, 0), dilation=(1, 1, 2),
               groups=2)
    col = C.conv3d_vol2col(x, **win)
    p = conv3d_impl.Conv3dParams((2, 1, 1), (1, 2, 0), (1, 1, 2), 2)
    want = conv3d_impl._generic_columns(np, x, (2, 3, 2), p)               # (N, G, K, P)
    assert col.shape == (2, 2 * 12, 3 * want.shape[3])
    np.testing.assert_array_equal(col, want.transpose(1, 2, 0, 3).reshape(col.shape))
    c = rng.standard_normal(col.shape, np.float32)
    back = C.conv3d_col2vol(c, x.shape, **win)
    np.testing.assert_allclose(np.vdot(col.astype(np.float64), c),
                               np.vdot(x.astype(np.float64), back), rtol=1e-5)
    out = np.full(col.shape, np.nan, np.float32)
    assert C.conv3d_vol2col(x, out=out, **win) is out
    np.testing.assert_array_equal(out, col)
    out = np.full(x.shape, np.nan, np.float32)
    C.conv3d_col2vol(c, x.shape, out=out, **win)
    np.testing.assert_array_equal(out, back)
    with pytest.raises(ValueError, match=r"conv3d_vol2col: out has shape \(2, 24, 5\)"):
        C.conv3d_vol2col(x, out=np.empty((2, 24, 5), np.float32), **win)
    with pytest.raises(ValueError, match=r"conv3d_vol2col: expected a float32 array"):
        C.conv3d_vol2col(x.astype(np.float64), **win)


@pytest.mark.parametrize("chunk_bytes", [conv_impl.CHUNK_BYTES, 1])
def test_conv3d_native_agrees_with_generic_path(monkeypatch, chunk_bytes):
    """The generic path (CuPy without our kernels) against the native CPU path, whole batches
    and one sample per column-buffer chunk."""
    monkeypatch.setattr(conv_impl, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4, 5, 6, 5), np.float32)
    w = rng.standard_normal((6, 2, 3, 2, 3), np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    p = conv3d_impl.Conv3dParams((1, 2, 2), (1, 0, 2), (2, 1, 1), 2)
    y = conv3d_impl.forward(np, x, w, b, p)
    np.testing.assert_allclose(conv3d_impl._generic_forward(np, x, w, b, p), y, rtol=1e-5,
                               atol=1e-5)
    dy = rng.standard_normal(y.shape, np.float32)
    np.testing.assert_allclose(conv3d_impl._generic_backward_data(np, dy, w, x.shape[2:], p),
                               conv3d_impl.backward_data(np, dy, w, x.shape[2:], p), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(conv3d_impl._generic_backward_filter(np, x, dy, (3, 2, 3), p),
                               conv3d_impl.backward_filter(np, x, dy, (3, 2, 3), p), rtol=1e-4,
                               atol=1e-4)


def test_deform_kernels_match_reference_and_are_adjoint():
    """deform_im2col against the numpy bilinear reference (offsets reaching past every border),
    and deform_col2im's dx / dmask as the adjoints of the (linear) maps x -> col, mask -> col."""
    C = native()
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 4, 5, 6), np.float32)
    offset = (rng.standard_normal((2, 2 * 2 * 6, 3, 6)) * 3).astype(np.float32)
    mask = rng.random((2, 2 * 6, 3, 6)).astype(np.float32)
    win = dict(kernel=(2, 3), stride=(1, 1), padding=(0, 1), dilation=(2, 1))
    col = C.deform_im2col(x, offset, mask, **win)
    want = deform_cols_ref(x.astype(np.float64), offset.astype(np.float64), mask, (2, 3), 1,
                           (0, 1), (2, 1))
    np.testing.assert_allclose(col, want.reshape(col.shape), rtol=1e-5, atol=1e-5)
    c = rng.standard_normal(col.shape, np.float32)
    dx, doffset, dmask = C.deform_col2im(x, offset, mask, c, **win)
    assert doffset.shape == offset.shape
    np.testing.assert_allclose(np.vdot(col.astype(np.float64), c),
                               np.vdot(x.astype(np.float64), dx), rtol=1e-4)
    np.testing.assert_allclose(np.vdot(col.astype(np.float64), c),
                               np.vdot(mask.astype(np.float64), dmask), rtol=1e-4)
    with pytest.raises(ValueError, match=r"deform_im2col: offset .* do not match"):
        C.deform_im2col(x, offset[:, :-1], mask, **win)


def test_window_generic_path_matches_reference():
    """The strided-slice path of conv_window (CuPy, and non-float arrays on the CPU)."""
    from engine.ops import conv_window

    x = np.random.default_rng(17).integers(-9, 9, (2, 3, 6, 7)).astype(np.int32)
    win = dict(kernel=(3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    got = conv_window.windows(np, x, **win)
    np.testing.assert_array_equal(got, windows_ref(x, (3, 2), (1, 2), (2, 1), (1, 2)))
    np.testing.assert_array_equal(
        conv_window.windows(np, x.astype(np.float32), **win), got.astype(np.float32))


def test_threads_do_not_change_results():
    C = native()
    rng = np.random.default_rng(10)
    x = rng.standard_normal((4, 8, 8, 8, 8), np.float32)
    xd = rng.standard_normal((4, 8, 12, 12), np.float32)
    off = rng.standard_normal((4, 18, 12, 12), np.float32)
    m = rng.random((4, 9, 12, 12)).astype(np.float32)
    win3 = dict(kernel=(3, 3, 3), stride=(1, 1, 1), padding=(1, 1, 1), dilation=(1, 1, 1),
                groups=1)
    wind = dict(kernel=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1))
    threads = C.get_num_threads()
    try:
        results = []
        for n in (1, max(2, threads)):
            C.set_num_threads(n)
            col = C.conv3d_vol2col(x, **win3)
            dcol = C.deform_im2col(xd, off, m, **wind)
            results.append([col, C.conv3d_col2vol(col, x.shape, **win3), dcol,
                            *C.deform_col2im(xd, off, m, dcol, **wind)])
    finally:
        C.set_num_threads(threads)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- layers

def _copy_weights(layer, tlayer, weight_shape):
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(layer.weight.numpy().reshape(weight_shape)))
        if layer.bias is not None:
            tlayer.bias.copy_(torch.tensor(layer.bias.numpy().reshape(-1)))


@pytest.mark.parametrize("make,tmake,xs", [
    (lambda: M.Conv1d(4, 6, 3, stride=2, padding=1, groups=2),
     lambda: torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 9)),
    (lambda: M.Conv1d(3, 5, 3, padding=2, padding_mode="reflect"),
     lambda: torch.nn.Conv1d(3, 5, 3, padding=2, padding_mode="reflect"), (2, 3, 8)),
    (lambda: M.Conv3d(4, 6, (3, 2, 3), stride=(1, 2, 1), padding=1, groups=2),
     lambda: torch.nn.Conv3d(4, 6, (3, 2, 3), stride=(1, 2, 1), padding=1, groups=2),
     (2, 4, 5, 6, 5)),
    (lambda: M.ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     lambda: torch.nn.ConvTranspose3d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 3, 3, 2)),
])
def test_layers_match_torch(make, tmake, xs):
    """Forward and every gradient against torch's layer with the same weights."""
    layer, tlayer = make(), tmake()
    _copy_weights(layer, tlayer, tuple(tlayer.weight.shape))
    x = np.random.default_rng(11).standard_normal(xs).astype(np.float32)
    ex, tx = mge.tensor(x), torch.tensor(x, requires_grad=True)
    gm = GradManager().attach([ex] + list(layer.parameters()))
    with gm:
        y = layer(ex)
        gm.backward((y * y).sum())
    ty = tlayer(tx)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.weight.grad.numpy().reshape(tlayer.weight.shape),
                               tlayer.weight.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(layer.bias.grad.numpy().reshape(-1), tlayer.bias.grad.numpy(),
                               rtol=1e-4, atol=1e-3)


def test_layer_parameter_layouts_match_megengine():
    assert M.Conv1d(4, 6, 3).weight.shape == (6, 4, 3)
    assert M.Conv1d(4, 6, 3, groups=2).weight.shape == (2, 3, 2, 3)
    assert M.Conv1d(4, 6, 3).bias.shape == (1, 6, 1)
    assert M.Conv3d(4, 6, (1, 2, 3)).weight.shape == (6, 4, 1, 2, 3)
    assert M.Conv3d(4, 6, 3, groups=2).weight.shape == (2, 3, 2, 3, 3, 3)
    assert M.Conv3d(4, 6, 3).bias.shape == (1, 6, 1, 1, 1)
    assert M.ConvTranspose3d(4, 6, 3).weight.shape == (4, 6, 3, 3, 3)
    assert M.ConvTranspose3d(4, 6, 3, groups=2).weight.shape == (2, 2, 3, 3, 3, 3)
    assert M.ConvTranspose3d(4, 6, 3).bias.shape == (1, 6, 1, 1, 1)
    local = M.LocalConv2d(4, 6, 7, 8, 3, stride=2, padding=1, groups=2)
    assert local.weight.shape == (2, 4, 4, 2, 3, 3, 3) and local.bias is None
    assert isinstance(local, M.Conv2d)
    assert M.DeformableConv2d(4, 6, 3, groups=2).weight.shape == (2, 3, 2, 3, 3)
    assert M.DeformableConv2d(4, 6, 3).bias.shape == (1, 6, 1, 1)
    assert M.RegionRestrictedConv(4, 4, 3, groups=4).weight.shape == (4, 1, 1, 3, 3)
    assert M.RegionRestrictedConv(4, 6, 3).weight.shape == (1, 6, 4, 3, 3)
    # MegEngine's init: N(0, 1/fan_in), fan_in = prod(kernel) * in_channels
    w = M.Conv3d(16, 64, 3).weight.numpy()
    assert abs(w.std() - np.sqrt(1 / (27 * 16))) < 0.01


def test_parameterised_layers_run_their_functional():
    rng = np.random.default_rng(12)
    x = mge.tensor(rng.standard_normal((2, 4, 6, 6)).astype(np.float32))
    local = M.LocalConv2d(4, 6, 6, 6, 3, padding=1, groups=2)
    np.testing.assert_allclose(local(x).numpy(), F.local_conv2d(x, local.weight, None, 1,
                                                                1).numpy())
    deform = M.DeformableConv2d(4, 6, 3, padding=1, groups=2)
    off = mge.tensor(rng.standard_normal((2, 18, 6, 6)).astype(np.float32))
    m = mge.tensor(rng.random((2, 9, 6, 6)).astype(np.float32))
    np.testing.assert_allclose(deform(x, off, m).numpy(), F.deformable_conv2d(
        x, deform.weight, off, m, deform.bias, padding=1, groups=2).numpy())
    rr = M.RegionRestrictedConv(4, 4, 3, groups=4, padding=1)
    rin = mge.tensor(rng.integers(0, 2, (2, 6, 6)).astype(np.int32))
    rout = mge.tensor(rng.integers(0, 2, (2, 6, 6)).astype(np.int32))
    np.testing.assert_allclose(rr(x, rin, rout).numpy(), F.region_restricted_conv(
        x, rr.weight, rin, rout, rr.bias, padding=1, groups=4).numpy())
    sw = M.SlidingWindow(3, padding=1)
    assert sw(x).shape == (2, 4, 6, 6, 3, 3)
    assert M.SlidingWindowTranspose(6, 3, padding=1)(sw(x)).shape == (2, 4, 6, 6)


def test_region_restricted_conv_uint8_ids_match_int32():
    rng = np.random.default_rng(13)
    x = mge.tensor(rng.standard_normal((1, 2, 5, 5)).astype(np.float32))
    w = mge.tensor(rng.standard_normal((2, 1, 1, 3, 3)).astype(np.float32))
    rin, rout = rng.integers(0, 4, (1, 5, 5)), rng.integers(0, 4, (1, 3, 3))
    a = F.region_restricted_conv(x, w, mge.tensor(rin.astype(np.int32)),
                                 mge.tensor(rout.astype(np.int32)), groups=2)
    b = F.region_restricted_conv(x, w, mge.tensor(rin.astype(np.uint8)),
                                 mge.tensor(rout.astype(np.uint8)), groups=2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("make,spatial", [
    (lambda: M.Conv1d(4, 6, 3), (7,)), (lambda: M.Conv3d(4, 6, 3), (5, 5, 5)),
    (lambda: M.ConvTranspose3d(4, 6, 3), (3, 3, 3)),
    (lambda: M.LocalConv2d(4, 6, 5, 5, 3), (5, 5))])
def test_float16_data_through_float32_layers_promotes(make, spatial):
    """MegEngine's promotion: float16 input and float32 weights compute in float32, giving the
    result of the float32 input exactly."""
    m = make()
    x = mge.tensor(np.random.random((2, 4) + spatial).astype(np.float16))
    y = m(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), m(x.astype("float32")).numpy())


def test_float16_inputs_keep_their_dtype():
    x = mge.tensor(np.ones((1, 2, 3, 4, 4), np.float16))
    w = mge.tensor(np.ones((2, 2, 2, 2, 2), np.float16))
    assert F.conv3d(x, w).dtype == np.float16
    assert F.sliding_window(x[:, :, 0], 2).dtype == np.float16


# ---------------------------------------------------------------- CUDA kernels

def _gpu_vs_cpu(fn, arrays, n_grads):
    """Forward and the first n_grads input gradients on gpu0 against cpu0."""
    results = []
    for device in ("cpu0", "gpu0"):
        ts = [mge.tensor(a, device=device) for a in arrays]
        gm = GradManager().attach(ts[:n_grads])
        with gm:
            y = fn(*ts)
            gm.backward((y * y).sum())
        results.append([y.numpy()] + [t.grad.numpy() for t in ts[:n_grads]])
    for i, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-3, err_msg=f"output {i}")


@pytest.mark.cuda
def test_cuda_build_has_the_conv_kernels():
    C = native()
    assert C.with_cuda()
    for name in ("conv3d_vol2col_cuda", "conv3d_col2vol_cuda", "deform_im2col_cuda",
                 "deform_col2im_cuda"):
        assert hasattr(C, name), name


@pytest.mark.cuda
def test_cuda_conv3d_matches_cpu():
    rng = np.random.default_rng(14)
    arrays = [rng.standard_normal((2, 4, 6, 7, 5)).astype(np.float32),
              rng.standard_normal((6, 2, 3, 2, 3)).astype(np.float32),
              rng.standard_normal((1, 6, 1, 1, 1)).astype(np.float32)]
    _gpu_vs_cpu(lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 1), padding=1, groups=2),
                arrays, 3)
    arrays = [rng.standard_normal((2, 4, 3, 4, 3)).astype(np.float32),
              rng.standard_normal((4, 3, 3, 3, 3)).astype(np.float32)]
    _gpu_vs_cpu(lambda x, w: F.conv_transpose3d(x, w, stride=2, padding=1, output_padding=1),
                arrays, 2)


@pytest.mark.cuda
def test_cuda_deformable_conv_matches_cpu():
    rng = np.random.default_rng(15)
    arrays = [rng.standard_normal((2, 4, 9, 8)).astype(np.float32),
              rng.standard_normal((6, 2, 3, 3)).astype(np.float32),
              (rng.standard_normal((2, 36, 9, 8)) * 2).astype(np.float32),
              rng.random((2, 18, 9, 8)).astype(np.float32)]
    _gpu_vs_cpu(lambda x, w, o, m: F.deformable_conv2d(x, w, o, m, padding=1, groups=2),
                arrays, 4)


@pytest.mark.cuda
def test_cuda_windowed_convs_match_cpu():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 4, 6, 7)).astype(np.float32)
    _gpu_vs_cpu(lambda x: F.sliding_window(x, (3, 2), padding=1, stride=(2, 1)), [x], 1)
    w = rng.standard_normal((2, 6, 7, 2, 3, 3, 3)).astype(np.float32)
    _gpu_vs_cpu(lambda x, w: F.local_conv2d(x, w, padding=1), [x, w], 2)
    rin = rng.integers(0, 3, (2, 6, 7)).astype(np.int32)
    rout = rng.integers(0, 3, (2, 6, 7)).astype(np.int32)
    w = rng.standard_normal((2, 3, 2, 3, 3)).astype(np.float32)
    _gpu_vs_cpu(lambda x, w, a, b: F.region_restricted_conv(x, w, a, b, padding=1, groups=2),
                [x, w, rin, rout], 2)
