"""det.models box geometry: box ops, points / anchors, box coder, post-processing helpers."""
import math

import numpy as np
import pytest

from det.models.anchors import AnchorGenerator, grid_points
from det.models.box_coder import BoxCoder
from det.models.box_ops import (
    box_area,
    box_iou,
    boxes_from_ltrb,
    clip_boxes,
    flip_boxes,
    ltrb_from_points,
    scale_boxes,
)
from det.models.meta_arch.retinanet import match_anchors
from det.models.postprocess import nms_and_limit, to_original_coords, topk_candidates


def test_area_and_iou_hand_computed():
    a = np.array([[0, 0, 10, 10], [5, 5, 15, 25]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [3, 3, 3, 8]], np.float32)
    np.testing.assert_allclose(box_area(a), [100, 200])
    np.testing.assert_allclose(box_area(b[3:]), [0])  # degenerate: zero area
    iou = box_iou(a, b)
    # [0,0,10,10] vs [5,0,15,10]: inter 50, union 150; vs [5,5,15,25] (a[1] vs b[0]): inter 25,
    # union 275; a[1] vs b[1]: inter [5,5,15,10] = 50, union 250
    np.testing.assert_allclose(iou, [[1, 1 / 3, 0, 0], [25 / 275, 50 / 250, 0, 0]], rtol=1e-6)
    with pytest.raises(ValueError, match=r"box_iou: a must have shape \(K, 4\)"):
        box_iou(np.zeros((3, 3)), b)


def test_ltrb_round_trip_and_inside():
    points = np.array([[5, 5], [12, 5]], np.float32)
    boxes = np.array([[0, 0, 10, 20]], np.float32)
    ltrb = ltrb_from_points(points, boxes)  # (2, 1, 4)
    np.testing.assert_allclose(ltrb[:, 0], [[5, 5, 5, 15], [12, 5, -2, 15]])
    back = boxes_from_ltrb(points[:1], ltrb[:1, 0])
    np.testing.assert_allclose(back, boxes)


def test_clip_flip_scale():
    b = np.array([[-5, 2, 30, 50]], np.float32)
    np.testing.assert_allclose(clip_boxes(b, 40, 20), [[0, 2, 20, 40]])
    np.testing.assert_allclose(flip_boxes(np.array([[2, 1, 5, 4]], np.float32), 10),
                               [[5, 1, 8, 4]])
    np.testing.assert_allclose(scale_boxes(np.array([[2, 1, 5, 4]], np.float32), 2, 3),
                               [[6, 2, 15, 8]])


def test_to_original_coords_undoes_resize_then_flip():
    # original 50 x 100 (h, w) image with a box [10, 5, 30, 25]; resized by (sy, sx) = (2, 1.5)
    # to 100 x 150, then flipped: the box becomes [150 - 45, 10, 150 - 15, 50]
    orig = np.array([[10, 5, 30, 25]], np.float32)
    seen = np.array([[105, 10, 135, 50]], np.float32)
    out = to_original_coords(seen, (100, 150), (2.0, 1.5), True, (50, 100))
    np.testing.assert_allclose(out, orig, rtol=1e-6)
    # not flipped: only the scale; boxes outside the image are clipped
    out = to_original_coords(np.array([[-10, 0, 300, 90]], np.float32), (100, 150), (2.0, 1.5),
                             False, (50, 100))
    np.testing.assert_allclose(out, [[0, 0, 100, 45]])


def test_grid_points_centres_row_major():
    pts = grid_points(2, 3, 8)
    np.testing.assert_allclose(pts, [[4, 4], [12, 4], [20, 4], [4, 12], [12, 12], [20, 12]])


def test_anchor_generator_shapes_areas_ratios():
    gen = AnchorGenerator(sizes=(32, 64), scales=(1.0, 2.0), ratios=(0.5, 1.0, 2.0))
    assert gen.num_anchors == 6
    cell = gen.cell_anchors(0)  # ratio-major, scale fastest
    w = cell[:, 2] - cell[:, 0]
    h = cell[:, 3] - cell[:, 1]
    np.testing.assert_allclose(w * h, [32 ** 2, 64 ** 2] * 3, rtol=1e-5)
    np.testing.assert_allclose(h / w, [0.5, 0.5, 1, 1, 2, 2], rtol=1e-5)
    np.testing.assert_allclose(cell[:, :2] + cell[:, 2:], 0, atol=1e-4)  # centred on 0
    levels = gen([(2, 3), (1, 2)], (8, 16))
    assert [a.shape for a in levels] == [(2 * 3 * 6, 4), (1 * 2 * 6, 4)]
    # location (y=1, x=2) of level 0 is rows 5*6 .. 5*6+5, centred at ((2 + .5) * 8, 1.5 * 8)
    block = levels[0][30:36]
    np.testing.assert_allclose((block[:, :2] + block[:, 2:]) / 2, [[20, 12]] * 6, atol=1e-4)
    with pytest.raises(ValueError, match="2 sizes but 1 feature maps"):
        gen([(2, 3)], (8,))


def test_box_coder_round_trip_and_known_deltas():
    coder = BoxCoder(weights=(10, 10, 5, 5))
    anchors = np.array([[0, 0, 10, 10], [10, 20, 50, 40]], np.float32)
    boxes = np.array([[2, 2, 12, 12], [0, 15, 80, 55]], np.float32)
    deltas = coder.encode(anchors, boxes)
    # first pair: same size, centre moved by (2, 2) on a 10-px anchor -> 10 * 0.2 = 2
    np.testing.assert_allclose(deltas[0], [2, 2, 0, 0], atol=1e-6)
    np.testing.assert_allclose(deltas[1], [10 * (40 - 30) / 40, 10 * (35 - 30) / 20,
                                           5 * math.log(2), 5 * math.log(2)], rtol=1e-5)
    np.testing.assert_allclose(coder.decode(deltas, anchors), boxes, atol=1e-4)
    # the Tensor path agrees with numpy
    from engine import Tensor

    np.testing.assert_allclose(coder.decode(Tensor(deltas), anchors).numpy(), boxes, atol=1e-4)
    # huge dw is clamped instead of overflowing
    big = coder.decode(np.array([[0, 0, 1e4, 1e4]], np.float32), anchors[:1])
    assert np.isfinite(big).all()
    with pytest.raises(ValueError, match="positive width and height"):
        coder.encode(anchors[:1], np.array([[5, 5, 5, 9]], np.float32))


def test_match_anchors_thresholds_and_low_quality():
    iou = np.array([[0.7, 0.45, 0.1, 0.3],
                    [0.2, 0.1, 0.35, 0.0]], np.float32)  # (K=2 gts, R=4 anchors)
    matched, state = match_anchors(iou, 0.4, 0.5, allow_low_quality=False)
    np.testing.assert_array_equal(matched, [0, 0, 1, 0])
    np.testing.assert_array_equal(state, [1, -1, 0, 0])
    # gt 1's best anchor (2, IoU 0.35) becomes foreground
    matched, state = match_anchors(iou, 0.4, 0.5, allow_low_quality=True)
    np.testing.assert_array_equal(state, [1, -1, 1, 0])
    assert matched[2] == 1
    m, s = match_anchors(np.zeros((0, 3), np.float32))
    np.testing.assert_array_equal(s, [0, 0, 0])


def test_topk_candidates_threshold_and_order():
    scores = np.array([[0.1, 0.9], [0.6, 0.02], [0.3, 0.8]], np.float32)
    loc, cls, sc = topk_candidates(scores, 0.05, 3)
    np.testing.assert_array_equal(loc, [0, 2, 1])
    np.testing.assert_array_equal(cls, [1, 1, 0])
    np.testing.assert_allclose(sc, [0.9, 0.8, 0.6])
    loc, _, _ = topk_candidates(scores, 0.5, 100)
    assert loc.tolist() == [0, 2, 1]
    loc, _, _ = topk_candidates(scores, 0.99, 10)
    assert loc.size == 0


def test_nms_is_class_wise_and_limited():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60]],
                     np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    labels = np.array([0, 0, 1, 0], np.int32)
    b, s, lab = nms_and_limit(boxes, scores, labels, 0.5, 100)
    # box 1 overlaps box 0 (same class) and goes; box 2 has another class and stays
    np.testing.assert_allclose(s, [0.9, 0.7, 0.6])
    np.testing.assert_array_equal(lab, [0, 1, 0])
    _, s, _ = nms_and_limit(boxes, scores, labels, 0.5, 2)
    np.testing.assert_allclose(s, [0.9, 0.7])
