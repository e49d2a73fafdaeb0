"""det.evaluation.COCOEvaluator on hand-made ground truth with known AP."""
import json
import math

import numpy as np
import pytest

from det.evaluation import COCOEvaluator

# two images, non-contiguous category ids 3 and 8 (labels 0 and 1); one "small" box (area
# 400 < 32^2), two "medium" ones (32^2 < area <= 96^2) and no "large" one, so APl has no gt
GT = {
    "images": [{"id": 11, "file_name": "a.png", "width": 200, "height": 100},
               {"id": 4, "file_name": "b.png", "width": 200, "height": 100}],
    "categories": [{"id": 8, "name": "dog"}, {"id": 3, "name": "cat"}],
    "annotations": [
        {"id": 1, "image_id": 11, "category_id": 3, "bbox": [10, 10, 40, 30], "area": 1200,
         "iscrowd": 0},
        {"id": 2, "image_id": 11, "category_id": 8, "bbox": [100, 20, 50, 60], "area": 3000,
         "iscrowd": 0},
        {"id": 3, "image_id": 4, "category_id": 8, "bbox": [5, 50, 20, 20], "area": 400,
         "iscrowd": 0},
    ],
}
# x1y1x2y2 and label (0: cat = id 3, 1: dog = id 8) of each gt box, per image id
PERFECT = {11: ([[10, 10, 50, 40], [100, 20, 150, 80]], [0, 1]), 4: ([[5, 50, 25, 70]], [1])}


@pytest.fixture
def gt_path(tmp_path):
    path = tmp_path / "gt.json"
    path.write_text(json.dumps(GT))
    return str(path)


def _out(boxes, labels, scores=None):
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    scores = np.ones(len(boxes), np.float32) if scores is None else np.array(scores, np.float32)
    return {"boxes": boxes, "scores": scores, "labels": np.array(labels, np.int32)}


def _run(evaluator, per_image):
    evaluator.reset()
    ids = list(per_image)
    evaluator.process([_out(*per_image[i]) for i in ids], {"image_ids": ids})
    return evaluator.evaluate()


def test_perfect_predictions_give_100(gt_path, tmp_path, capsys):
    ev = COCOEvaluator(gt_path, output_dir=str(tmp_path / "out"))
    metrics = _run(ev, PERFECT)
    for key in ("AP", "AP50", "AP75", "APs", "APm", "AP-cat", "AP-dog"):
        assert metrics[key] == pytest.approx(100.0), key
    assert math.isnan(metrics["APl"])  # no large gt box
    printed = capsys.readouterr().out
    assert "AR100" in printed and "Per-class AP" in printed and "dog" in printed
    saved = json.load(open(tmp_path / "out" / "eval_results.json"))
    assert saved["AP50"] == pytest.approx(100.0) and saved["APl"] is None
    assert set(saved) == set(metrics)


def test_wrong_predictions_give_0(gt_path):
    ev = COCOEvaluator(gt_path)
    # right boxes, swapped labels (each label maps to the other json category id)
    swapped = {i: (boxes, [1 - lb for lb in labels]) for i, (boxes, labels) in PERFECT.items()}
    metrics = _run(ev, swapped)
    assert metrics["AP"] == 0.0 and metrics["AP50"] == 0.0
    # right labels, boxes far from every gt box
    far = {i: ([[160, 0, 199, 9]] * len(labels), labels) for i, (_, labels) in PERFECT.items()}
    metrics = _run(ev, far)
    assert metrics["AP"] == 0.0 and metrics["AP-cat"] == 0.0 and metrics["AP-dog"] == 0.0


def test_false_positive_ranked_first_halves_ap50(gt_path):
    # one image, one cat: a confident false positive then the true box -> precision 1/2 at
    # recall 1, and COCO's interpolated precision is 1/2 at every recall point: AP50 = 50
    ev = COCOEvaluator(gt_path)
    ev.process([_out([[120, 60, 160, 90], [10, 10, 50, 40]], [0, 0], [0.9, 0.8])],
               {"image_ids": [11]})
    metrics = ev.evaluate()
    assert metrics["AP-cat"] == pytest.approx(50.0)
    assert math.isnan(metrics["AP-dog"]) or metrics["AP-dog"] == 0.0
    # only processed images are evaluated: image 4's dog is not counted as missed


def test_no_detections_and_bad_input(gt_path):
    ev = COCOEvaluator(gt_path)
    with pytest.raises(RuntimeError, match="no images were processed"):
        ev.evaluate()
    ev.process([_out([], [])], {"image_ids": [4]})
    assert ev.evaluate()["AP"] == 0.0
    with pytest.raises(ValueError, match="labels outside"):
        ev.process([_out([[0, 0, 5, 5]], [2])], {"image_ids": [4]})
    with pytest.raises(ValueError, match="2 outputs for a batch of 1"):
        ev.process([_out([], []), _out([], [])], {"image_ids": [4]})
    with pytest.raises(KeyError, match="image id 99"):
        ev.process([_out([], [])], {"image_ids": [99]})
    with pytest.raises(ValueError, match="2 class_names for 1"):
        gt = dict(GT, categories=GT["categories"][:1], annotations=[])
        path = gt_path.replace("gt.json", "one.json")
        open(path, "w").write(json.dumps(gt))
        COCOEvaluator(path, class_names=["a", "b"])
    with pytest.raises(TypeError, match="json path or a pycocotools COCO"):
        COCOEvaluator(3)
