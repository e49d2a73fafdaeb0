"""warp_perspective / warp_affine / remap, correlation, deformable PSROI pooling, cvt_color and
the CTC loss: op-table rows against plain float64 numpy references written from megdnn's
definitions (machinery in optable.py) and comparisons with torch where it has the op. The live
MegEngine comparison is in test_vision_extra_megengine.py."""
import math

import numpy as np
import pytest
import torch
from optable import Case, U, check_case, gens, ints

import engine as mge
import engine.functional as F
import engine.module as M
from engine.autodiff import GradManager

# ---------------------------------------------------------------- references (float64 numpy)


def border_index(p, n, mode):
    """megcv's border_interpolate; -1 = the constant border value."""
    if 0 <= p < n:
        return p
    if mode == "replicate":
        return 0 if p < 0 else n - 1
    if mode in ("reflect", "reflect_101"):
        if n == 1:
            return 0
        delta = mode == "reflect_101"
        while not 0 <= p < n:
            p = -p - 1 + delta if p < 0 else n - 1 - (p - n) - delta
        return p
    if mode == "wrap":
        return p % n
    return -1


def sample_ref(img, x, y, border, val, nearest=False):
    """img (C, H, W) read at column x, row y: per-tap borders, bilinear or nearest."""
    c, h, w = img.shape

    def tap(r, q):
        r, q = border_index(r, h, border), border_index(q, w, border)
        return np.full(c, val) if r < 0 or q < 0 else img[:, r, q]

    if nearest:
        return tap(int(np.round(y)), int(np.round(x)))  # numpy rounds half to even, as megdnn
    x0, y0 = math.floor(x), math.floor(y)
    ax, ay = x - x0, y - y0
    return (tap(y0, x0) * (1 - ax) * (1 - ay) + tap(y0, x0 + 1) * ax * (1 - ay)
            + tap(y0 + 1, x0) * (1 - ax) * ay + tap(y0 + 1, x0 + 1) * ax * ay)


def warp_perspective_ref(x, mat, out_hw, mat_idx=None, border="replicate", val=0.0):
    oh, ow = out_hw
    out = np.zeros((len(mat), x.shape[1], oh, ow))
    for n, m in enumerate(mat):
        img = x[n if mat_idx is None else int(mat_idx[n])]
        for i in range(oh):
            for j in range(ow):
                d = m[2, 0] * j + m[2, 1] * i + m[2, 2]
                sx = (m[0, 0] * j + m[0, 1] * i + m[0, 2]) / d
                sy = (m[1, 0] * j + m[1, 1] * i + m[1, 2]) / d
                out[n, :, i, j] = sample_ref(img, sx, sy, border, val)
    return out


def remap_ref(x, map_xy, border="replicate", val=0.0, nearest=False):
    n, oh, ow, _ = map_xy.shape
    out = np.zeros((n, x.shape[1], oh, ow))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                out[b, :, i, j] = sample_ref(x[b], *map_xy[b, i, j], border, val, nearest)
    return out


def correlation_ref(d1, d2, k=1, md=1, s1=1, s2=1, pad=0, multiply=True):
    n, c, h, w = d1.shape
    kr, r = (k - 1) // 2, md // s2
    border = md + kr
    oh = math.ceil((h + 2 * pad - 2 * border) / s1)
    ow = math.ceil((w + 2 * pad - 2 * border) / s1)
    p1 = np.pad(d1, ((0, 0), (0, 0), (pad + 2 * border,) * 2, (pad + 2 * border,) * 2))
    p2 = np.pad(d2, ((0, 0), (0, 0), (pad + 2 * border,) * 2, (pad + 2 * border,) * 2))
    off = pad + 2 * border  # index shift into the padded copies
    out = np.zeros((n, (2 * r + 1) ** 2, oh, ow))
    for tc in range((2 * r + 1) ** 2):
        dy, dx = (tc // (2 * r + 1) - r) * s2, (tc % (2 * r + 1) - r) * s2
        for ty in range(oh):
            for tx in range(ow):
                y1 = ty * s1 + border - pad + off
                x1 = tx * s1 + border - pad + off
                a = p1[:, :, y1 - kr:y1 + kr + 1, x1 - kr:x1 + kr + 1]
                b = p2[:, :, y1 + dy - kr:y1 + dy + kr + 1, x1 + dx - kr:x1 + dx + kr + 1]
                v = a * b if multiply else np.abs(a - b)
                out[:, tc, ty, tx] = v.sum((1, 2, 3)) / (k * k * c)
    return out


def dpsroi_ref(x, rois, trans, no_trans, part, ph_n, pw_n, spp, scale, std=0.1):
    _, c, h, w = x.shape
    flat = trans.reshape(-1)  # read as part x part planes, as megdnn does
    out = np.zeros((len(rois), c, ph_n, pw_n))
    rnd = lambda v: np.sign(v) * np.floor(abs(v) + 0.5)  # noqa: E731  C round()
    for k, r in enumerate(rois):
        x1, y1 = rnd(r[1]) * scale - 0.5, rnd(r[2]) * scale - 0.5
        rw = max((rnd(r[3]) + 1) * scale - 0.5 - x1, 0.1)
        rh = max((rnd(r[4]) + 1) * scale - 0.5 - y1, 0.1)
        bw, bh = rw / pw_n, rh / ph_n
        for ch in range(c):
            for ph in range(ph_n):
                for pw in range(pw_n):
                    ws, hs = pw * bw + x1, ph * bh + y1
                    if not no_trans:
                        a, b = math.floor(ph / ph_n * part), math.floor(pw / pw_n * part)
                        ws += flat[((2 * k) * part + a) * part + b] * std * rw
                        hs += flat[((2 * k + 1) * part + a) * part + b] * std * rh
                    vals = []
                    for ih in range(spp):
                        for iw in range(spp):
                            sw, sh = ws + iw * bw / spp, hs + ih * bh / spp
                            if sw < -0.5 or sw > w - 0.5 or sh < -0.5 or sh > h - 0.5:
                                continue
                            sw, sh = min(max(sw, 0), w - 1), min(max(sh, 0), h - 1)
                            vals.append(sample_ref(x[int(r[0]), ch:ch + 1], sw, sh,
                                                   "replicate", 0)[0])
                    out[k, ch, ph, pw] = np.mean(vals) if vals else 0.0
    return out


CVT = {  # float32 modes, megdnn's coefficients
    "RGB2GRAY": lambda v: v[..., :1] * 0.299 + v[..., 1:2] * 0.587 + v[..., 2:3] * 0.114,
    "BGR2GRAY": lambda v: v[..., 2:3] * 0.299 + v[..., 1:2] * 0.587 + v[..., :1] * 0.114,
    "RGB2YUV": lambda v: _rgb2yuv(v),
    "YUV2RGB": lambda v: np.stack([v[..., 0] + (v[..., 1] - 0.5) * 2.032,
                                   v[..., 0] - (v[..., 2] - 0.5) * 0.581
                                   - (v[..., 1] - 0.5) * 0.395,
                                   v[..., 0] + (v[..., 2] - 0.5) * 1.140], -1),
    "GRAY2RGB": lambda v: np.repeat(v, 3, -1),
}


def _rgb2yuv(v):
    y = v[..., 0] * 0.114 + v[..., 1] * 0.587 + v[..., 2] * 0.299
    return np.stack([y, (v[..., 0] - y) * 0.492 + 0.5, (v[..., 2] - y) * 0.877 + 0.5], -1)


def ctc_ref(pred, pred_len, label, label_len, blank=0, reduction="none"):
    """MegEngine's recursion: log(max(p, tiny)); states >= 2 start at log(tiny)."""
    tiny = float(np.finfo(np.float32).tiny)  # a Python float: keep the recursion in float64
    lp = np.log(np.maximum(pred, tiny))
    losses = []
    for n in range(pred.shape[1]):
        ext = [blank]
        for v in label[n, :int(label_len[n])]:
            ext += [int(v), blank]
        s_n = len(ext)
        a = np.full(s_n, np.log(tiny))
        a[:2] = lp[0, n, ext[:2]]
        for t in range(1, int(pred_len[n])):
            new = a.copy()
            new[1:] = np.logaddexp(a[1:], a[:-1])
            for s in range(2, s_n):
                if ext[s] != ext[s - 2]:
                    new[s] = np.logaddexp(new[s], a[s - 2])
            a = new + lp[t, n, ext]
        losses.append(-np.logaddexp(a[-1], a[-2]))
    loss = np.array(losses)
    if reduction == "mean":
        return (loss / label_len).mean()
    return loss.sum() if reduction == "sum" else loss


# ---------------------------------------------------------------- input generators


def perspective(n):
    """Matrices near the identity (shifted and slightly skewed), so samples land around the map
    and off it, and the denominator stays near 1."""
    def g(rng):
        base = np.array([[1.1, 0.1, -1.2], [-0.05, 0.9, -0.8], [0.01, -0.02, 1.0]])
        noise = rng.normal(0, [[0.1, 0.1, 0.5], [0.1, 0.1, 0.5], [0.005, 0.005, 0.0]], (n, 3, 3))
        return base + noise
    return g


def coords(n, oh, ow, lo, hi):
    return lambda rng: rng.uniform(lo, hi, (n, oh, ow, 2))


def probs(t, n, c):
    def g(rng):
        e = np.exp(rng.normal(0, 1, (t, n, c)))
        return e / e.sum(-1, keepdims=True)
    return g


def rois_int(k, batch, size):
    """Integer corners (MegEngine rounds them) well inside a size x size map."""
    def g(rng):
        x1, y1 = rng.integers(1, size // 2, (2, k))
        x2, y2 = x1 + rng.integers(1, size // 2 - 1, k), y1 + rng.integers(1, size // 2 - 1, k)
        return np.stack([rng.integers(0, batch, k), x1, y1, x2, y2], 1).astype(np.float64)
    return g


PERSP_OPS = ("WarpPerspective", "WarpPerspectiveGradData", "WarpPerspectiveGradMat")
REMAP_OPS = ("Remap", "RemapGradData", "RemapGradMap")
CTC_LABEL = np.array([[1, 2, 2, 3], [4, 1, 0, 0], [2, 0, 0, 0]], np.int32)

CASES = [
    Case(f"warp_perspective_{b}", gens(U(2, 2, 5, 6), perspective(2)),
         lambda x, m, b=b: F.vision.warp_perspective(x, m, (4, 7), border_mode=b, border_val=0.7),
         lambda x, m, b=b: warp_perspective_ref(x, m, (4, 7), border=b, val=0.7), PERSP_OPS,
         grad=(0, 1), rtol=1e-4, atol=1e-5, gtol=3e-3)
    for b in ("replicate", "reflect", "reflect_101", "wrap", "constant")
] + [
    Case("warp_perspective_mat_idx", gens(U(2, 3, 5, 5), perspective(3), lambda r: np.array(
        [1, 0, 1], np.int32)),
         lambda x, m, i: F.warp_perspective(x, m, (3, 4), mat_idx=i),
         lambda x, m, i: warp_perspective_ref(x, m, (3, 4), mat_idx=i), PERSP_OPS, grad=(0, 1),
         rtol=1e-4, atol=1e-5, gtol=3e-3),
    Case("warp_perspective_nhwc", gens(U(1, 5, 6, 3), perspective(1)),
         lambda x, m: F.nn.warp_perspective(x, m, (3, 4), format="NHWC"),
         lambda x, m: warp_perspective_ref(x.transpose(0, 3, 1, 2), m, (3, 4)).transpose(
             0, 2, 3, 1), PERSP_OPS, grad=(0, 1), rtol=1e-4, atol=1e-5, gtol=3e-3),
    Case("warp_affine_nchw", gens(U(2, 2, 5, 6), lambda r: perspective(2)(r)[:, :2]),
         lambda x, m: F.warp_affine(x, m, (4, 5), border_mode="reflect", format="NCHW"),
         lambda x, m: warp_perspective_ref(
             x, np.concatenate([m, np.tile([[[0, 0, 1.0]]], (2, 1, 1))], 1), (4, 5),
             border="reflect"), PERSP_OPS + ("Concat",), grad=(0, 1), rtol=1e-4, atol=1e-5,
         gtol=3e-3),
] + [
    Case(f"remap_{b}", gens(U(2, 2, 4, 5), coords(2, 3, 4, -2.5, 6.5)),
         lambda x, m, b=b: F.vision.remap(x, m, border_mode=b, scalar=-0.3),
         lambda x, m, b=b: remap_ref(x, m, b, -0.3), REMAP_OPS, grad=(0, 1), rtol=1e-4,
         atol=1e-5)
    for b in ("replicate", "reflect", "reflect_101", "wrap", "constant")
] + [
    Case("remap_nearest", gens(U(1, 3, 4, 5), coords(1, 3, 3, -1.4, 5.4)),
         lambda x, m: F.remap(x, m, border_mode="constant", interp_mode="nearest"),
         lambda x, m: remap_ref(x, m, "constant", 0.0, nearest=True), REMAP_OPS, grad=(0, 1)),
    Case("correlation_multiply", gens(U(2, 3, 7, 7), U(2, 3, 7, 7)),
         lambda a, b: F.vision.correlation(a, b, kernel_size=3, max_displacement=2, stride1=2,
                                           stride2=1, pad_size=2),
         lambda a, b: correlation_ref(a, b, 3, 2, 2, 1, 2), ("Correlation", "CorrelationGrad"),
         grad=(0, 1), rtol=1e-5, atol=1e-6),
    Case("correlation_absdiff", gens(U(1, 2, 6, 8), U(1, 2, 6, 8)),
         lambda a, b: F.nn.correlation(a, b, 1, 2, 1, 2, 1, False),
         lambda a, b: correlation_ref(a, b, 1, 2, 1, 2, 1, False),
         ("Correlation", "CorrelationGrad"), grad=(0, 1)),
    Case("deformable_psroi_pooling", gens(U(2, 4, 9, 9), rois_int(3, 2, 9),
                                          U(3, 2, 3, 2, lo=-1, hi=1)),
         lambda x, r, t: F.deformable_psroi_pooling(x, r, t, False, 2, 3, 2, 2, 1.0, 0.1),
         lambda x, r, t: dpsroi_ref(x, r, t, False, 2, 3, 2, 2, 1.0, 0.1),
         ("DeformablePsroiPooling", "DeformablePsroiPoolingGrad"), grad=(0, 2)),
    Case("deformable_psroi_pooling_no_trans", gens(U(1, 2, 8, 8), rois_int(2, 1, 8),
                                                   U(2, 2, 1, 1)),
         lambda x, r, t: F.nn.deformable_psroi_pooling(x, r, t, True, 1, 2, 2, 3, 0.5),
         lambda x, r, t: dpsroi_ref(x, r, t, True, 1, 2, 2, 3, 0.5),
         ("DeformablePsroiPooling", "DeformablePsroiPoolingGrad"), grad=(0,)),
    Case("cvt_color_rgb2yuv", gens(U(2, 3, 4, 3, lo=0, hi=1)),
         lambda x: F.vision.cvt_color(x, "RGB2YUV"), CVT["RGB2YUV"], ("CvtColor",)),
    Case("ctc_loss_mean", gens(probs(6, 3, 5), lambda r: np.array([6, 5, 3], np.int32),
                               lambda r: CTC_LABEL, lambda r: np.array([4, 2, 1], np.int32)),
         lambda p, pl, lab, ll: F.loss.ctc_loss(p, pl, lab, ll),
         lambda p, pl, lab, ll: ctc_ref(p, pl, lab, ll, reduction="mean"),
         ("CtcLoss", "CtcLossGrad"), grad=(0,), rtol=1e-5, atol=1e-5),
    Case("ctc_loss_none_blank", gens(probs(5, 2, 4), ints(2, lo=3, hi=6),
                                     lambda r: np.array([[1, 1], [2, 0]], np.int32),
                                     lambda r: np.array([2, 2], np.int32)),
         lambda p, pl, lab, ll: F.nn.ctc_loss(p, pl, lab, ll, blank=3, reduction="none"),
         lambda p, pl, lab, ll: ctc_ref(p, pl, lab, ll, blank=3),
         ("CtcLoss", "CtcLossGrad"), grad=(0,), rtol=1e-5, atol=1e-5),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, device, monkeypatch):
    check_case(case, device, monkeypatch)


# ---------------------------------------------------------------- against torch


def _grid(map_xy, h, w):
    """remap's pixel coordinates as grid_sample's align_corners=True grid."""
    return np.stack([map_xy[..., 0] * 2 / (w - 1) - 1, map_xy[..., 1] * 2 / (h - 1) - 1], -1)


# remap border "replicate" samples exactly as grid_sample's "border" padding (both clamp the
# taps), "constant" with 0 as "zeros" (taps outside read 0).
TORCH_MODES = [("replicate", "border", "linear", "bilinear"),
               ("constant", "zeros", "linear", "bilinear"),
               ("constant", "zeros", "nearest", "nearest")]


@pytest.mark.parametrize("border,padding,interp,tmode", TORCH_MODES)
def test_remap_matches_torch_grid_sample(border, padding, interp, tmode):
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (2, 3, 6, 7)).astype(np.float32)
    map_xy = rng.uniform(-2, 8, (2, 5, 4, 2)).astype(np.float32)
    xt, mt = mge.tensor(x), mge.tensor(map_xy)
    gm = GradManager().attach([xt, mt])
    with gm:
        y = F.vision.remap(xt, mt, border_mode=border, interp_mode=interp)
        gm.backward(y.sum())
    tx = torch.tensor(x, requires_grad=True)
    grid = torch.tensor(_grid(map_xy.astype(np.float64), 6, 7).astype(np.float32),
                        requires_grad=True)
    ty = torch.nn.functional.grid_sample(tx, grid, mode=tmode, padding_mode=padding,
                                         align_corners=True)
    ty.sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    if interp == "linear":  # grid gradient -> pixel-coordinate gradient
        want = grid.grad.numpy() * np.array([2 / 6, 2 / 5], np.float32)
        np.testing.assert_allclose(mt.grad.numpy(), want, rtol=1e-3, atol=1e-4)


def test_warp_perspective_matches_torch_grid_sample():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, (2, 2, 8, 9)).astype(np.float32)
    mat = perspective(2)(rng).astype(np.float32)
    oh, ow = 6, 7
    jj, ii = np.meshgrid(np.arange(ow), np.arange(oh))
    pts = np.einsum("nij,jhw->nhwi", mat.astype(np.float64), np.stack([jj, ii, np.ones_like(jj)]))
    map_xy = pts[..., :2] / pts[..., 2:]
    xt = mge.tensor(x)
    gm = GradManager().attach(xt)
    with gm:
        y = F.vision.warp_perspective(xt, mge.tensor(mat), (oh, ow), border_mode="constant")
        gm.backward((y * y).sum())
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.grid_sample(tx, torch.tensor(_grid(map_xy, 8, 9).astype(np.float32)),
                                         padding_mode="zeros", align_corners=True)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_loss_matches_torch(reduction):
    """torch takes log-probabilities; we take probabilities. Through a softmax of the same logits
    both losses and their logit gradients must agree (torch's own log_probs gradient assumes
    normalised inputs, so the comparison is made on the logits)."""
    rng = np.random.default_rng(5)
    t, n, c, s = 12, 4, 6, 5
    logits = rng.normal(0, 1, (t, n, c)).astype(np.float32)
    pl, ll = np.array([12, 9, 12, 7]), np.array([5, 3, 1, 4])
    lab = rng.integers(1, c, (n, s))
    lab[0, 2] = lab[0, 1]  # a repeated label needs a blank between
    xt = mge.tensor(logits)
    gm = GradManager().attach(xt)
    with gm:
        loss = F.loss.ctc_loss(F.softmax(xt, axis=-1), mge.tensor(pl), mge.tensor(lab),
                               mge.tensor(ll), reduction=reduction)
        gm.backward(loss.sum())
    tx = torch.tensor(logits, requires_grad=True)
    tl = torch.nn.functional.ctc_loss(torch.log_softmax(tx, -1), torch.tensor(lab),
                                      torch.tensor(pl), torch.tensor(ll), reduction=reduction)
    tl.sum().backward()
    np.testing.assert_allclose(loss.numpy(), tl.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- MegEngine's own numbers


def test_docstring_examples():
    """The literal results of MegEngine's docstrings (warp_perspective, remap, cvt_color, ctc)."""
    x = mge.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    m = mge.tensor(np.array([[[1, 0, 1], [0, 1, 1], [0, 0, 1]]], np.float32))
    np.testing.assert_array_equal(F.vision.warp_perspective(x, m, (2, 2)).numpy(),
                                  [[[[5, 6], [9, 10]]]])
    map_xy = mge.tensor(np.array([[1, 0], [0, 1], [0, 1], [0, 1]], np.float32).reshape(
        1, 2, 2, 2))
    np.testing.assert_array_equal(F.vision.remap(x, map_xy).numpy(), [[[[1, 4], [4, 4]]]])
    rgb = mge.tensor(np.array([[[[-0.58675045, 1.7526233, 0.10702174]]]], np.float32))
    np.testing.assert_allclose(F.vision.cvt_color(rgb, "RGB2GRAY").numpy(), [[[[0.86555195]]]],
                               rtol=1e-6)
    pred = mge.tensor([[[0.0614, 0.9386], [0.8812, 0.1188]], [[0.699, 0.301], [0.2572, 0.7428]]])
    loss = F.nn.ctc_loss(pred, mge.tensor([2, 2]), mge.tensor([1, 1]), mge.tensor([1, 1]))
    np.testing.assert_allclose(loss.numpy(), 0.1504417, rtol=1e-6)


def test_cvt_color_modes():
    rng = np.random.default_rng(6)
    x = rng.uniform(0, 1, (2, 3, 4, 3)).astype(np.float32)
    for mode, ref in CVT.items():
        v = x[..., :1] if mode == "GRAY2RGB" else x
        np.testing.assert_allclose(F.vision.cvt_color(mge.tensor(v), mode.lower()).numpy(),
                                   ref(v.astype(np.float64)), rtol=1e-6, atol=1e-6)
    u = rng.integers(0, 256, (1, 5, 7, 4)).astype(np.uint8)
    r, g, b = (u[..., i].astype(np.int64) for i in range(3))
    gray = (r * 4899 + g * 9617 + b * 1868 + (1 << 13)) >> 14  # OpenCV's 14-bit fixed point
    for mode, inp, want in [("RGB2GRAY", u[..., :3], gray[..., None]),
                            ("RGBA2GRAY", u, gray[..., None]),
                            ("BGR2GRAY", u[..., 2::-1], gray[..., None]),
                            ("RGB2BGR", u[..., :3], u[..., 2::-1]),
                            ("BGR2RGB", u[..., :3], u[..., 2::-1]),
                            ("RGBA2RGB", u, u[..., :3]), ("RGBA2BGR", u, u[..., 2::-1]),
                            ("GRAY2RGB", u[..., :1], np.repeat(u[..., :1], 3, -1))]:
        out = F.vision.cvt_color(mge.tensor(np.ascontiguousarray(inp)), mode)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out.numpy(), want, err_msg=mode)


# ---------------------------------------------------------------- module, dtypes, GPU


def test_deformable_psroi_pooling_module():
    rng = np.random.default_rng(8)
    x = mge.tensor(rng.normal(0, 1, (1, 4, 8, 8)).astype(np.float32))
    rois = mge.tensor(rois_int(2, 1, 8)(rng).astype(np.float32))
    trans = mge.tensor(rng.uniform(-1, 1, (2, 2, 3, 3)).astype(np.float32))
    m = M.DeformablePSROIPooling(False, 2, 3, 3, 2, 1.0, trans_std=0.2)
    np.testing.assert_allclose(m(x, rois, trans).numpy(),
                               F.deformable_psroi_pooling(x, rois, trans, False, 2, 3, 3, 2, 1.0,
                                                          0.2).numpy())


def test_warp_float16_input_computes_in_float32_and_returns_float16():
    x = mge.tensor(np.arange(16, dtype=np.float16).reshape(1, 1, 4, 4))
    m = mge.tensor(np.array([[[1, 0, 1], [0, 1, 1], [0, 0, 1]]], np.float32))
    out = F.vision.warp_perspective(x, m, (2, 2))
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out.numpy(), [[[[5, 6], [9, 10]]]])


def _gpu_vs_cpu(fn, arrays, grad):
    res = []
    for dev in ("cpu0", "gpu0"):
        ts = [mge.tensor(a, device=dev) for a in arrays]
        gm = GradManager().attach([ts[i] for i in grad])
        with gm:
            y = fn(*ts)
            gm.backward((y * y).sum())
        res.append([y.numpy()] + [ts[i].grad.numpy() for i in grad])
    for c, g in zip(*res):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-4)


@pytest.mark.cuda
def test_cuda_kernels_match_cpu():
    rng = np.random.default_rng(9)
    x = rng.normal(0, 1, (2, 3, 9, 10)).astype(np.float32)
    mat = perspective(3)(rng).astype(np.float32)
    _gpu_vs_cpu(lambda a, m: F.warp_perspective(a, m, (7, 8), mat_idx=[1, 0, 1],
                                                border_mode="reflect"), [x, mat], (0, 1))
    _gpu_vs_cpu(lambda a, m: F.remap(a, m, border_mode="constant", scalar=0.3),
                [x, rng.uniform(-2, 11, (2, 6, 5, 2)).astype(np.float32)], (0, 1))
    _gpu_vs_cpu(lambda a, b: F.vision.correlation(a, b, 3, 2, 1, 1, 1),
                [x, rng.normal(0, 1, x.shape).astype(np.float32)], (0, 1))
    _gpu_vs_cpu(lambda a, r, t: F.deformable_psroi_pooling(a, r, t, False, 2, 3, 3, 2, 1.0),
                [x, rois_int(3, 2, 9)(rng).astype(np.float32),
                 rng.uniform(-1, 1, (3, 2, 3, 3)).astype(np.float32)], (0, 2))
    _gpu_vs_cpu(lambda p: F.nn.ctc_loss(p, mge.tensor([6, 4], device=p.device),
                                        mge.tensor([[1, 2, 2], [3, 0, 0]], device=p.device),
                                        mge.tensor([3, 1], device=p.device), reduction="sum"),
                [probs(6, 2, 4)(rng).astype(np.float32)], (0,))
    img = rng.integers(0, 256, (1, 4, 5, 3)).astype(np.uint8)
    for mode in ("RGB2GRAY", "RGB2YUV", "YUV2RGB", "RGB2BGR"):
        np.testing.assert_array_equal(F.vision.cvt_color(mge.tensor(img, device="gpu0"),
                                                         mode).numpy(),
                                      F.vision.cvt_color(mge.tensor(img), mode).numpy())


@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("kw", [dict(size=(7, 3, 9)), dict(scale_factor=2),
                                dict(scale_factor=(1.5, 2.0, 0.5))])
def test_trilinear_interpolate_matches_torch(align, kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5, 6)).astype("float32")
    tx = torch.tensor(x.astype("float64"), requires_grad=True)  # (float64: the reference)
    ty = torch.nn.functional.interpolate(tx, mode="trilinear", align_corners=align, **kw)
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape)).astype("float32")
    ty.backward(torch.tensor(g.astype("float64")))
    ex = mge.tensor(x)
    gm = GradManager().attach(ex)
    with gm:
        ey = F.vision.interpolate(ex, mode="TRILINEAR", align_corners=align, **kw)
        gm.backward(ey, mge.tensor(g))
    np.testing.assert_allclose(ey.numpy(), ty.detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-5)


def test_trilinear_interpolate_refuses_bad_input():
    with pytest.raises(ValueError, match="5-D"):
        F.vision.interpolate(mge.tensor(np.zeros((1, 1, 2, 2), "float32")), scale_factor=2,
                             mode="trilinear")
    with pytest.raises(ValueError, match="triple"):
        F.vision.interpolate(mge.tensor(np.zeros((1, 1, 2, 2, 2), "float32")), size=(2, 2),
                             mode="trilinear")
