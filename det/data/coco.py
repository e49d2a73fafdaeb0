"""COCODataset: a COCO-format json + image folder, read through pycocotools.

Rules (issue #4, point 5 and 8):
  * image ids come from the json (`images[i]["id"]`), never from file names;
  * crowd annotations (iscrowd=1) are ignored;
  * images without boxes are kept (training drops them when `filter_empty`, the default);
  * grey, palette, CMYK and RGBA images are converted to RGB (alpha is dropped);
  * json category ids may be non-contiguous: they are sorted and mapped to labels 0..C-1;
    `label_to_cat_id[label]` maps back (the evaluator uses the same rule);
  * bad input stops with a message naming the json and the offending entry: malformed json,
    missing keys, an annotation whose image or category id is not declared, a missing image
    file. Boxes of zero or negative width/height (after clipping to the image) are dropped
    with one warning listing their annotation ids: real COCO has a few such boxes, so an error
    would make the real dataset unusable, and such a box carries no training signal.
"""
import contextlib
import io
import json
import numbers
import os
import warnings

import numpy as np
from PIL import Image

from det.registry import DATASETS
from engine.data import MapDataset

__all__ = ["COCODataset", "load_coco_json", "contiguous_category_ids"]


def _fail(json_path, message):
    raise ValueError(f"COCO json {json_path}: {message}")


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def load_coco_json(json_path):
    """Read and validate a COCO detection json; returns a pycocotools COCO object."""
    from pycocotools.coco import COCO

    if not os.path.isfile(json_path):
        raise FileNotFoundError(f"COCO json {json_path} does not exist")
    try:
        with open(json_path) as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"COCO json {json_path} is not valid json: {e}") from None
    if not isinstance(data, dict):
        _fail(json_path, f"expected a json object at the top level, got {type(data).__name__}")
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            _fail(json_path, f"needs a list {key!r} (top-level keys: {sorted(data)})")
    data.setdefault("annotations", [])  # an image list without annotations (a test split)
    if not isinstance(data["annotations"], list):
        _fail(json_path, "'annotations' must be a list")
    _validate(json_path, data)
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints "creating index..."
        coco.createIndex()
    return coco


def _validate(json_path, data):
    image_ids = set()
    for i, img in enumerate(data["images"]):
        if not isinstance(img, dict) or "id" not in img or "file_name" not in img:
            _fail(json_path, f"images[{i}] needs 'id' and 'file_name', got {img!r}")
        if not isinstance(img["id"], numbers.Integral) or isinstance(img["id"], bool):
            _fail(json_path, f"images[{i}]['id'] must be an int, got {img['id']!r}")
        if img["id"] in image_ids:
            _fail(json_path, f"image id {img['id']} appears twice in 'images'")
        image_ids.add(img["id"])
    cat_ids = set()
    for i, cat in enumerate(data["categories"]):
        if not isinstance(cat, dict) or not isinstance(cat.get("id"), numbers.Integral):
            _fail(json_path, f"categories[{i}] needs an int 'id', got {cat!r}")
        if cat["id"] in cat_ids:
            _fail(json_path, f"category id {cat['id']} appears twice in 'categories'")
        cat_ids.add(cat["id"])
    if not cat_ids:
        _fail(json_path, "'categories' is empty")
    for i, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            _fail(json_path, f"annotations[{i}] must be an object, got {ann!r}")
        missing = [k for k in ("id", "image_id", "category_id", "bbox") if k not in ann]
        if missing:
            _fail(json_path, f"annotations[{i}] lacks {missing} (has {sorted(ann)})")
        if ann["image_id"] not in image_ids:
            _fail(json_path, f"annotation id {ann['id']} refers to image id {ann['image_id']}, "
                             "which is not in 'images'")
        if ann["category_id"] not in cat_ids:
            _fail(json_path, f"annotation id {ann['id']} has category_id {ann['category_id']}, "
                             f"which is not in 'categories' (ids: {sorted(cat_ids)})")
        bbox = ann["bbox"]
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(map(_is_number, bbox)) \
                or not all(np.isfinite(bbox)):
            _fail(json_path, f"annotation id {ann['id']} has bbox {bbox!r}; expected 4 finite "
                             "numbers [x, y, width, height]")


def contiguous_category_ids(coco):
    """Sorted json category ids: label i <-> category id ids[i] (dataset and evaluator)."""
    return sorted(coco.getCatIds())


@DATASETS.register()
class COCODataset(MapDataset):
    """A COCO detection dataset yielding the contract's item dicts.

    Args:
        json_path: the annotation json.
        image_root: folder that images[i]["file_name"] is relative to.
        transforms: callable(item, rng) -> item (see det.data.transforms), or None.
        training: when True, images without (non-crowd, valid) boxes are dropped if
            filter_empty; at test time every image is kept.
        filter_empty: drop images without boxes when training (detectron2's default).

    `dataset[i]` takes an int, or a pair (i, seed) from the training sampler: the seed makes a
    RandomState for this sample's random transforms (with an int, np.random is used).

    Attributes: label_to_cat_id (list, label -> json category id), cat_id_to_label (dict),
    class_names (list), num_classes, image_ids (list, dataset order).
    """

    def __init__(self, json_path, image_root, transforms=None, training=False,
                 filter_empty=True):
        super().__init__()
        if transforms is not None and not callable(transforms):
            raise TypeError(f"COCODataset: transforms must be callable(item, rng) or None, got "
                            f"{type(transforms).__name__}")
        self.json_path = json_path
        self.image_root = image_root
        self.transforms = transforms
        self.training = training
        self.coco = load_coco_json(json_path)
        self.label_to_cat_id = contiguous_category_ids(self.coco)
        self.cat_id_to_label = {c: i for i, c in enumerate(self.label_to_cat_id)}
        cats = self.coco.cats
        self.class_names = [str(cats[c].get("name", c)) for c in self.label_to_cat_id]
        self._records = self._build_records()
        if training and filter_empty:
            self._records = [r for r in self._records if len(r["labels"])]
        self.image_ids = [r["image_id"] for r in self._records]

    @property
    def num_classes(self):
        return len(self.label_to_cat_id)

    def _build_records(self):
        dropped = []
        records = []
        for img_id in sorted(self.coco.imgs):  # json ids, sorted for a stable order
            img = self.coco.imgs[img_id]
            boxes, labels = [], []
            for ann in self.coco.imgToAnns.get(img_id, []):
                if ann.get("iscrowd", 0):
                    continue
                x, y, w, h = ann["bbox"]
                box = [x, y, x + w, y + h]
                if "width" in img and "height" in img:  # clip to the image
                    box = [min(max(box[0], 0), img["width"]), min(max(box[1], 0), img["height"]),
                           min(max(box[2], 0), img["width"]), min(max(box[3], 0), img["height"])]
                if not (box[2] > box[0] and box[3] > box[1]):
                    dropped.append(ann["id"])
                    continue
                boxes.append(box)
                labels.append(self.cat_id_to_label[ann["category_id"]])
            records.append({
                "image_id": int(img_id),
                "file_name": img["file_name"],
                "size": (img.get("height"), img.get("width")),
                "boxes": np.asarray(boxes, np.float32).reshape(-1, 4),  # (K, 4) x1y1x2y2
                "labels": np.asarray(labels, np.int32),  # (K,)
            })
        if dropped:
            warnings.warn(f"COCODataset {self.json_path}: dropped {len(dropped)} boxes of zero or "
                          f"negative width/height (inside the image); annotation ids "
                          f"{dropped[:10]}{' ...' if len(dropped) > 10 else ''}", stacklevel=3)
        return records

    def __len__(self):
        return len(self._records)

    def load_image(self, record):
        """(H, W, 3) uint8 RGB of one record; clear errors for a missing or wrong-sized file."""
        path = os.path.join(self.image_root, record["file_name"])
        if not os.path.isfile(path):
            raise FileNotFoundError(f"COCODataset: image file {path} (image id "
                                    f"{record['image_id']} in {self.json_path}) does not exist")
        with Image.open(path) as im:
            image = np.asarray(im.convert("RGB"))
        h, w = record["size"]
        if h is not None and w is not None and image.shape[:2] != (h, w):
            raise ValueError(f"COCODataset: image file {path} is {image.shape[1]}x"
                             f"{image.shape[0]} (WxH) but {self.json_path} says {w}x{h} for "
                             f"image id {record['image_id']}")
        return image

    def __getitem__(self, index):
        seed = None
        if isinstance(index, tuple):
            index, seed = index
        record = self._records[index]
        image = self.load_image(record)
        item = {
            "image": image,
            "boxes": record["boxes"].copy(),
            "labels": record["labels"].copy(),
            "image_id": record["image_id"],
            "orig_size": (int(image.shape[0]), int(image.shape[1])),
            "scale": (1.0, 1.0),
            "flipped": False,
        }
        if self.transforms is not None:
            rng = np.random if seed is None else np.random.RandomState(seed)
            item = self.transforms(item, rng)
        return item
