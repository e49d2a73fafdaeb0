"""Interpolation, box IoU / GIoU, NMS, ROIAlign and ROI pooling: op-table rows against float64
numpy references written here (MegEngine semantics), PyTorch comparisons for interpolate, exact
index equality for NMS."""
import math

import numpy as np
import pytest
import torch
from optable import Case, U, check_case, distinct, gens

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager

# ---------------------------------------------------------------- references (float64 numpy)


def interp_matrix(n_in, n_out, mode, align, scale):
    """(n_out, n_in) 1-D resize matrix with PyTorch's source-coordinate rule."""
    m = np.zeros((n_out, n_in))
    for d in range(n_out):
        if mode == "nearest":  # float32 product, as the kernel (an exact integer must not flip)
            m[d, min(int(np.floor(np.float32(d) * np.float32(scale))), n_in - 1)] = 1
            continue
        src = d * scale if align else max((d + 0.5) * scale - 0.5, 0.0)
        i0 = min(int(src), n_in - 1)
        i1 = i0 + 1 if i0 < n_in - 1 else i0
        m[d, i0] += 1 - (src - i0)
        m[d, i1] += src - i0
    return m


def interp_ref(x, out_hw, mode="bilinear", align=False, scales=None):
    (h, w), (oh, ow) = x.shape[2:], out_hw
    if align:
        scales = ((h - 1) / (oh - 1) if oh > 1 else 0, (w - 1) / (ow - 1) if ow > 1 else 0)
    elif scales is None:
        scales = (h / oh, w / ow)
    mh = interp_matrix(h, oh, mode, align, scales[0])
    mw = interp_matrix(w, ow, mode, align, scales[1])
    return np.einsum("oh,nchw,pw->ncop", mh, x, mw)


def box_area(b):
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def iou_parts(a, b):
    """a, b broadcastable (..., 4) -> intersection, union, enclosing area."""
    lt, rb = np.maximum(a[..., :2], b[..., :2]), np.minimum(a[..., 2:], b[..., 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), -1)
    union = box_area(a) + box_area(b) - inter
    elt, erb = np.minimum(a[..., :2], b[..., :2]), np.maximum(a[..., 2:], b[..., 2:])
    return inter, union, np.prod(np.clip(erb - elt, 0, None), -1)


def box_iou_ref(a, b):
    inter, union, _ = iou_parts(a[:, None], b[None])
    return inter / union


def giou_ref(a, b):
    inter, union, enclose = iou_parts(a, b)
    return inter / union - (enclose - union) / enclose


def nms_ref(boxes, scores, thresh, classes=None, max_output=None):
    order = np.argsort(-scores, kind="stable")
    iou = box_iou_ref(boxes, boxes)
    same = np.ones_like(iou, bool) if classes is None else classes[:, None] == classes[None]
    keep = []
    for i in order:
        if max_output is not None and len(keep) >= max_output:
            break
        if not np.any((iou[i, keep] > thresh) & same[i, keep]):
            keep.append(i)
    return np.array(keep, np.int64)


def bilinear_zero_pad(plane, h, w):
    """plane (C, H, W) read at (h, w); corners outside the map count as 0 (MegEngine)."""
    _, height, width = plane.shape
    h0, w0 = math.floor(h), math.floor(w)
    out = np.zeros(plane.shape[0])
    for y, wy in ((h0, 1 - (h - h0)), (h0 + 1, h - h0)):
        for x, wx in ((w0, 1 - (w - w0)), (w0 + 1, w - w0)):
            if 0 <= y < height and 0 <= x < width:
                out += wy * wx * plane[:, y, x]
    return out


def roi_align_ref(x, rois, out_hw, mode="average", scale=1.0, samples=(2, 2), aligned=True):
    off = 0.5 if aligned else 0.0
    (ph_n, pw_n), (sh, sw) = out_hw, samples
    out = np.zeros((len(rois), x.shape[1], ph_n, pw_n))
    for k, r in enumerate(rois):
        x1, y1, x2, y2 = r[1:] * scale - off
        bh, bw = max(y2 - y1, 0) / ph_n, max(x2 - x1, 0) / pw_n
        for ph in range(ph_n):
            for pw in range(pw_n):
                vals = [bilinear_zero_pad(x[int(r[0])], y1 + bh * (ph + (iy + 0.5) / sh),
                                          x1 + bw * (pw + (ix + 0.5) / sw))
                        for iy in range(sh) for ix in range(sw)]
                out[k, :, ph, pw] = np.mean(vals, 0) if mode == "average" else np.max(vals, 0)
    return out


def roi_pool_ref(x, rois, out_hw, mode="max", scale=1.0):
    f32 = np.float32
    _, c, height, width = x.shape
    ph_n, pw_n = out_hw
    out = np.zeros((len(rois), c, ph_n, pw_n))
    for k, r in enumerate(rois):
        x1, y1, x2, y2 = (int(np.sign(v) * np.floor(abs(v) + 0.5)) for v in f32(r[1:]) * f32(scale))
        bin_h = f32(max(y2 - y1 + 1, 1)) / f32(ph_n)
        bin_w = f32(max(x2 - x1 + 1, 1)) / f32(pw_n)
        for ph in range(ph_n):
            for pw in range(pw_n):
                hs = min(max(int(np.floor(f32(ph) * bin_h)) + y1, 0), height)
                he = min(max(int(np.ceil(f32(ph + 1) * bin_h)) + y1, 0), height)
                ws = min(max(int(np.floor(f32(pw) * bin_w)) + x1, 0), width)
                we = min(max(int(np.ceil(f32(pw + 1) * bin_w)) + x1, 0), width)
                region = x[int(r[0]), :, hs:he, ws:we].reshape(c, -1)
                if region.shape[1]:
                    out[k, :, ph, pw] = region.max(1) if mode == "max" else region.mean(1)
    return out


# ---------------------------------------------------------------- input generators


def boxes(n, lo=0.0, hi=10.0, min_size=0.5, max_size=6.0):
    def g(rng):
        xy = rng.uniform(lo, hi, (n, 2))
        wh = rng.uniform(min_size, max_size, (n, 2))
        return np.concatenate([xy, xy + wh], 1)
    return g


def rois(k, batch, size, scale=1.0):
    """(k, 5) rois inside a size x size map (in input coordinates = map / scale)."""
    def g(rng):
        xy = rng.uniform(-0.5, size * 0.6, (k, 2))
        wh = rng.uniform(0.8, size * 0.6, (k, 2))
        b = rng.integers(0, batch, (k, 1))
        return np.concatenate([b, xy, xy + wh], 1) / np.array([1, scale, scale, scale, scale])
    return g


def nms_inputs(n, classes=None, tie_scores=False):
    def g(rng):
        centres = rng.uniform(0, 20, (3, 2))[rng.integers(0, 3, n)] + rng.normal(0, 1.5, (n, 2))
        wh = rng.uniform(3, 6, (n, 2))
        b = np.concatenate([centres - wh / 2, centres + wh / 2], 1)
        s = rng.integers(0, 4, n).astype(np.float64) if tie_scores else rng.permutation(n) / n
        out = (b, s)
        return out + (rng.integers(0, classes, n).astype(np.int32),) if classes else out
    return g


IP = ("Interpolate", "InterpolateGrad")
CASES = [
    Case("interp_bilinear_up", gens(U(2, 3, 4, 5)),
         lambda x: F.vision.interpolate(x, size=(7, 9)),
         lambda x: interp_ref(x, (7, 9)), IP, grad=(0,)),
    Case("interp_bilinear_down_align", gens(U(1, 2, 7, 6)),
         lambda x: F.nn.interpolate(x, size=(3, 4), align_corners=True),
         lambda x: interp_ref(x, (3, 4), align=True), IP, grad=(0,)),
    Case("interp_bilinear_scale_factor", gens(U(1, 2, 3, 4)),
         lambda x: F.vision.interpolate(x, scale_factor=1.7),
         lambda x: interp_ref(x, (5, 6), scales=(1 / 1.7, 1 / 1.7)), IP, grad=(0,)),
    Case("interp_nearest", gens(U(2, 2, 5, 3)),
         lambda x: F.vision.interpolate(x, size=(8, 7), mode="nearest"),
         lambda x: interp_ref(x, (8, 7), "nearest"), IP, grad=(0,)),
    Case("interp_nearest_down_scale", gens(U(1, 1, 6, 9)),
         lambda x: F.vision.interpolate(x, scale_factor=(0.5, 1 / 3), mode="nearest"),
         lambda x: interp_ref(x, (3, 3), "nearest", scales=(2.0, 3.0)), IP, grad=(0,)),
    Case("box_iou", gens(boxes(5), boxes(4)), F.vision.box_iou, box_iou_ref,
         ("BoxIou", "BoxIouGrad"), grad=(0, 1)),
    Case("giou_paired", gens(boxes(6), boxes(6)), F.vision.giou, giou_ref,
         ("PairedIou", "PairedIouGrad"), grad=(0, 1)),
    Case("giou_paired_batched", lambda r: (boxes(6)(r).reshape(2, 3, 4),
                                           boxes(6)(r).reshape(2, 3, 4)),
         F.vision.giou, giou_ref, ("PairedIou",), grad=(0, 1)),
    Case("generalized_box_iou", gens(boxes(3), boxes(4)), F.vision.generalized_box_iou,
         lambda a, b: giou_ref(a[:, None], b[None]), ("PairedIou", "PairedIouGrad"),
         grad=(0, 1)),
    Case("nms", nms_inputs(40), lambda b, s: F.vision.nms(b, s, 0.3),
         lambda b, s: nms_ref(b, s, 0.3), ("Nms",)),
    Case("nms_score_ties_max_output", nms_inputs(30, tie_scores=True),
         lambda b, s: F.vision.nms(b, s, 0.5, max_output=4),
         lambda b, s: nms_ref(b, s, 0.5, max_output=4), ("Nms",)),
    Case("batched_nms", nms_inputs(40, classes=3),
         lambda b, s, c: F.vision.batched_nms(b, s, c, 0.2),
         lambda b, s, c: nms_ref(b, s, 0.2, c), ("Nms",)),
    Case("roi_align_average", gens(U(2, 3, 6, 7), rois(3, 2, 6)),
         lambda x, r: F.vision.roi_align(x, r, (2, 3)),
         lambda x, r: roi_align_ref(x, r, (2, 3)), ("RoiAlign", "RoiAlignGrad"), grad=(0,)),
    # Positive, well-separated values: a zero-padded sample never wins a bin and no two
    # samples come within finite-difference distance of each other.
    Case("roi_align_max_unaligned_scaled",
         lambda r: (distinct(2, 2, 8, 8)(r) * 10 + 100, rois(3, 2, 8, 0.5)(r)),
         lambda x, r: F.vision.roi_align(x, r, 2, mode="max", spatial_scale=0.5,
                                         sample_points=(3, 2), aligned=False),
         lambda x, r: roi_align_ref(x, r, (2, 2), "max", 0.5, (3, 2), False),
         ("RoiAlign", "RoiAlignGrad"), grad=(0,)),
    Case("roi_pooling_max", gens(distinct(2, 2, 7, 8), rois(4, 2, 7)),
         lambda x, r: F.vision.roi_pooling(x, r, (2, 3)),
         lambda x, r: roi_pool_ref(x, r, (2, 3)), ("RoiPooling", "RoiPoolingGrad"), grad=(0,)),
    Case("roi_pooling_average_scaled", gens(U(1, 3, 8, 8), rois(3, 1, 8, 0.5)),
         lambda x, r: F.vision.roi_pooling(x, r, 3, mode="average", scale=0.5),
         lambda x, r: roi_pool_ref(x, r, (3, 3), "average", 0.5),
         ("RoiPooling", "RoiPoolingGrad"), grad=(0,)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, device, monkeypatch):
    check_case(case, device, monkeypatch)


# ---------------------------------------------------------------- interpolate vs torch

INTERP = [
    dict(size=(13, 7)), dict(size=5), dict(scale_factor=2), dict(scale_factor=(0.6, 1.35)),
    dict(size=(13, 7), align_corners=True), dict(size=(1, 1), align_corners=True),
    dict(scale_factor=3, mode="nearest"), dict(size=(4, 11), mode="nearest"),
    dict(scale_factor=0.45, mode="nearest"),
]


@pytest.mark.parametrize("kw", INTERP, ids=[str(k) for k in INTERP])
def test_interpolate_matches_torch(kw, device):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (2, 3, 6, 9)).astype(np.float32)
    xt = mge.tensor(x, device=device)
    gm = GradManager().attach(xt)
    with gm:
        y = F.vision.interpolate(xt, **kw)
        w = rng.uniform(0.5, 1.5, y.shape).astype(np.float32)
        gm.backward((y * mge.tensor(w, device=device)).sum())
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, **{"mode": "bilinear", **kw})
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_interpolate_second_order_is_the_adjoint():
    """InterpolateGrad's gradient is Interpolate: the grad-of-grad of sum(w * up(x)) wrt the
    upstream weights reproduces the forward."""
    x = mge.tensor(np.random.default_rng(1).normal(0, 1, (1, 1, 3, 4)))
    w = mge.tensor(np.random.default_rng(2).normal(0, 1, (1, 1, 6, 8)))
    v = np.random.default_rng(3).normal(0, 1, (1, 1, 3, 4)).astype(np.float32)
    outer, inner = GradManager().attach(w), GradManager().attach(x)
    with outer:
        with inner:
            inner.backward((F.vision.interpolate(x, scale_factor=2) * w).sum())
        outer.backward((x.grad * mge.tensor(v)).sum())
    want = F.vision.interpolate(mge.tensor(v), scale_factor=2).numpy()
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- nms edge cases


def test_nms_empty_input():
    keep = F.vision.nms(mge.tensor(np.zeros((0, 4), np.float32)), mge.tensor(np.zeros(0)), 0.5)
    assert keep.shape == (0,) and keep.dtype == np.int32
    keep = F.vision.batched_nms(mge.tensor(np.zeros((0, 4), np.float32)),
                                mge.tensor(np.zeros(0)), mge.tensor(np.zeros(0, np.int32)), 0.5)
    assert keep.shape == (0,)


def test_nms_ties_keep_the_lower_index_and_threshold_is_strict():
    b = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30]], np.float32)
    s = np.array([0.5, 0.5, 0.9, 0.5], np.float32)
    # box 2 overlaps 0 and 1 with IoU exactly 0.5: kept at thresh 0.5, suppressing at 0.49.
    np.testing.assert_array_equal(F.vision.nms(mge.tensor(b), mge.tensor(s), 0.5).numpy(),
                                  [2, 0, 3])
    np.testing.assert_array_equal(F.vision.nms(mge.tensor(b), mge.tensor(s), 0.49).numpy(),
                                  [2, 3])
    np.testing.assert_array_equal(
        F.vision.nms(mge.tensor(b), mge.tensor(s), 0.5, max_output=0).numpy(), np.zeros(0))


def test_batched_nms_keeps_overlapping_boxes_of_other_classes():
    b = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 9, 9]], np.float32)
    s = np.array([0.9, 0.8, 0.7], np.float32)
    idx = np.array([0, 1, 0], np.int32)
    got = F.vision.batched_nms(mge.tensor(b), mge.tensor(s), mge.tensor(idx), 0.5).numpy()
    np.testing.assert_array_equal(got, [0, 1])


def test_nms_many_boxes_matches_reference():
    b, s = nms_inputs(1000)(np.random.default_rng(4))
    b, s = b.astype(np.float32), s.astype(np.float32)
    got = F.vision.nms(mge.tensor(b), mge.tensor(s), 0.6).numpy()
    np.testing.assert_array_equal(got, nms_ref(b.astype(np.float64), s, 0.6))


# ---------------------------------------------------------------- roi ops, edge cases


def test_roi_align_outside_the_map_reads_zero():
    x = mge.tensor(np.ones((1, 1, 4, 4), np.float32))
    r = mge.tensor(np.array([[0, 20, 20, 30, 30]], np.float32))
    np.testing.assert_array_equal(F.vision.roi_align(x, r, 2).numpy(), np.zeros((1, 1, 2, 2)))
    np.testing.assert_array_equal(F.vision.roi_pooling(x, r, 2).numpy(), np.zeros((1, 1, 2, 2)))


def test_roi_align_larger_map_matches_reference():
    """Enough work for the parallel loops (forward and backward) to engage."""
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (2, 16, 24, 24)).astype(np.float32)
    r = rois(40, 2, 24)(rng).astype(np.float32)
    xt = mge.tensor(x)
    gm = GradManager().attach(xt)
    with gm:
        y = F.vision.roi_align(xt, mge.tensor(r), 3)
        gm.backward(y.sum())
    np.testing.assert_allclose(y.numpy(), roi_align_ref(x.astype(np.float64),
                                                        r.astype(np.float64), (3, 3)),
                               rtol=1e-4, atol=1e-5)
    # Each bin spreads a total weight of 1 over in-map corners: the gradient sums to at most
    # K * C * bins, exactly that when every sample lands inside the map.
    assert xt.grad.numpy().sum() <= 40 * 16 * 9 + 1e-2
