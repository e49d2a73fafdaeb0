"""COCOEvaluator: box AP with pycocotools' COCOeval, in percent.

    evaluator = COCOEvaluator("val.json", output_dir="out")
    evaluator.reset()
    for batch in loader:
        evaluator.process(model(batch, mode="predict"), batch)
    metrics = evaluator.evaluate()   # {"AP": .., "AP50": .., ..., "AP-circle": ..}

Labels are mapped back to json category ids with the dataset's rule (sorted category ids,
det.data.coco.contiguous_category_ids). Only the images that were processed are evaluated, so a
partial pass gives the AP of those images. A metric COCOeval cannot compute (-1: e.g. APs when
the ground truth has no small objects) is NaN in the returned dict and null in the json.
"""
import contextlib
import io
import json
import logging
import math
import os

import numpy as np

from det.data.coco import contiguous_category_ids, load_coco_json
from det.utils import comm

__all__ = ["COCOEvaluator"]

# COCOeval.stats order
_STAT_NAMES = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm",
               "ARl"]
_STAT_TITLES = ["AP @[IoU=0.50:0.95 | area=all | maxDets=100]",
                "AP @[IoU=0.50      | area=all | maxDets=100]",
                "AP @[IoU=0.75      | area=all | maxDets=100]",
                "AP @[IoU=0.50:0.95 | area=small | maxDets=100]",
                "AP @[IoU=0.50:0.95 | area=medium | maxDets=100]",
                "AP @[IoU=0.50:0.95 | area=large | maxDets=100]",
                "AR @[IoU=0.50:0.95 | area=all | maxDets=1]",
                "AR @[IoU=0.50:0.95 | area=all | maxDets=10]",
                "AR @[IoU=0.50:0.95 | area=all | maxDets=100]",
                "AR @[IoU=0.50:0.95 | area=small | maxDets=100]",
                "AR @[IoU=0.50:0.95 | area=medium | maxDets=100]",
                "AR @[IoU=0.50:0.95 | area=large | maxDets=100]"]


def _emit(text):
    """To the "det" logger when det has set one up (so it reaches the log file), else stdout."""
    logger = logging.getLogger("det")
    if logger.handlers:
        logger.info(text)
    else:
        print(text)


def _percent(value):
    return float("nan") if value < 0 else float(value) * 100.0


class COCOEvaluator:
    """Args:
        coco_gt: path of the ground-truth COCO json, or a pycocotools COCO object.
        output_dir: where evaluate() writes eval_results.json (None: nothing is written).
        class_names: names for the per-class "AP-<name>" keys, in label order (default: the
            json's category names).
    """

    def __init__(self, coco_gt, output_dir=None, class_names=None):
        if isinstance(coco_gt, (str, os.PathLike)):
            coco_gt = load_coco_json(os.fspath(coco_gt))
        elif not hasattr(coco_gt, "getCatIds"):
            raise TypeError(f"COCOEvaluator: coco_gt must be a json path or a pycocotools COCO, "
                            f"got {type(coco_gt).__name__}")
        self.coco_gt = coco_gt
        self.label_to_cat_id = np.asarray(contiguous_category_ids(self.coco_gt), np.int64)
        if class_names is None:
            class_names = [str(self.coco_gt.cats[c].get("name", c))
                           for c in self.label_to_cat_id.tolist()]
        if len(class_names) != len(self.label_to_cat_id):
            raise ValueError(f"COCOEvaluator: {len(class_names)} class_names for "
                             f"{len(self.label_to_cat_id)} categories in the ground truth")
        self.class_names = list(class_names)
        self.output_dir = output_dir
        self.reset()

    def reset(self):
        # json image id -> (M, 7) [image_id, x, y, w, h, score, category_id]; keyed by image,
        # so an image seen twice (a sampler padding its ranks' shares) counts once
        self._results = {}

    def process(self, outputs, batch):
        """outputs: list of N {"boxes": (M, 4) x1y1x2y2 in original coordinates, "scores": (M,),
        "labels": (M,)}; batch["image_ids"]: the N json image ids."""
        image_ids = list(batch["image_ids"])
        if len(outputs) != len(image_ids):
            raise ValueError(f"COCOEvaluator.process: {len(outputs)} outputs for a batch of "
                             f"{len(image_ids)} images")
        num_classes = len(self.label_to_cat_id)
        for image_id, out in zip(image_ids, outputs):
            image_id = int(image_id)
            if image_id not in self.coco_gt.imgs:
                raise KeyError(f"COCOEvaluator.process: image id {image_id} is not in the ground "
                               f"truth")
            boxes = np.asarray(_numpy(out["boxes"]), np.float64).reshape(-1, 4)  # (M, 4)
            scores = np.asarray(_numpy(out["scores"]), np.float64).reshape(-1)  # (M,)
            labels = np.asarray(_numpy(out["labels"]), np.int64).reshape(-1)  # (M,)
            if not len(boxes) == len(scores) == len(labels):
                raise ValueError(f"COCOEvaluator.process: image {image_id} has {len(boxes)} "
                                 f"boxes, {len(scores)} scores and {len(labels)} labels")
            if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
                raise ValueError(f"COCOEvaluator.process: image {image_id} has labels outside "
                                 f"[0, {num_classes}): {np.unique(labels).tolist()}")
            rows = np.empty((len(boxes), 7), np.float64)
            rows[:, 0] = image_id
            rows[:, 1:3] = boxes[:, :2]
            rows[:, 3:5] = boxes[:, 2:] - boxes[:, :2]  # x1y1x2y2 -> xywh
            rows[:, 5] = scores
            rows[:, 6] = self.label_to_cat_id[labels]
            self._results[image_id] = rows

    def evaluate(self):
        """Runs COCOeval (bbox) over the processed images; returns the flat metrics dict.

        With several processes, call it on every rank: the ranks' detections are gathered,
        rank 0 evaluates them (and writes eval_results.json) and every rank returns its
        metrics."""
        results = {}
        for part in comm.all_gather(self._results):  # rank order; duplicates are equal
            results.update(part)
        if not results:
            raise RuntimeError("COCOEvaluator.evaluate: no images were processed")
        metrics = self._evaluate(results) if comm.is_main_process() else None
        return comm.broadcast_object(metrics)

    def _evaluate(self, results):
        from pycocotools.cocoeval import COCOeval

        names = ["AP", "AP50", "AP75", "APs", "APm", "APl"]
        image_ids = sorted(results)
        rows = [results[i] for i in image_ids if len(results[i])]
        if not rows:
            _emit("COCOEvaluator: no detections at all; every AP is 0")
            metrics = {k: 0.0 for k in names}
            metrics.update({f"AP-{c}": 0.0 for c in self.class_names})
            self._write(metrics)
            return metrics
        rows = np.concatenate(rows)
        with contextlib.redirect_stdout(io.StringIO()):  # COCOeval prints its progress
            coco_dt = self.coco_gt.loadRes(rows)
            coco_eval = COCOeval(self.coco_gt, coco_dt, "bbox")
            coco_eval.params.imgIds = image_ids
            coco_eval.evaluate()
            coco_eval.accumulate()
            coco_eval.summarize()
        stats = [_percent(s) for s in coco_eval.stats]
        lines = [f"COCO bbox evaluation on {len(image_ids)} images:"]
        lines += [f"  {n:<6} {t:<50} {v:6.2f}" for n, t, v in zip(_STAT_NAMES, _STAT_TITLES,
                                                                  stats)]
        metrics = dict(zip(names, stats[:6]))
        # precision: (T IoUs, R recall points, K categories, A areas, M maxDets); area "all",
        # maxDets 100; -1 marks recall points never reached
        precision = coco_eval.eval["precision"]
        per_class = {}
        for k, name in enumerate(self.class_names):
            p = precision[:, :, k, 0, -1]
            p = p[p > -1]
            per_class[name] = float(p.mean() * 100) if p.size else float("nan")
        lines.append("Per-class AP:")
        lines += [f"  {name:<20} {ap:6.2f}" for name, ap in per_class.items()]
        _emit("\n".join(lines))
        metrics.update({f"AP-{name}": ap for name, ap in per_class.items()})
        self._write(metrics)
        return metrics

    def _write(self, metrics):
        if self.output_dir is None:
            return
        os.makedirs(self.output_dir, exist_ok=True)
        path = os.path.join(self.output_dir, "eval_results.json")
        clean = {k: (None if math.isnan(v) else v) for k, v in metrics.items()}
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(clean, f, indent=2)
        os.replace(tmp, path)


def _numpy(x):
    return x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else x
