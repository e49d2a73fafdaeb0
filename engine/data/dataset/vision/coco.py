"""COCO and Objects365 (megengine.data.dataset): images plus a COCO-format json annotation file."""
import json
import os
from collections import defaultdict

import numpy as np

from . import _class_tables as tables
from .meta_vision import VisionDataset, imread

__all__ = ["COCO", "Objects365"]

# an image with keypoints in `order` needs this many visible keypoints to be kept
min_keypoints_per_image = 10


def _count_visible_keypoints(anno):
    return sum(sum(1 for v in obj["keypoints"][2::3] if v > 0) for obj in anno)


def has_valid_annotation(anno, order):
    """Whether an image's annotations are worth a sample (as torchvision's COCO reader and
    MegEngine): at least one, with boxes when ``order`` asks for boxes, and at least
    ``min_keypoints_per_image`` (10) visible keypoints when it asks for keypoints.

    Args:
        anno: the image's list of annotation dicts.
        order: the fields the dataset produces.

    Examples:
        >>> from engine.data.dataset.vision.coco import has_valid_annotation
        >>> has_valid_annotation([{"bbox": [0, 0, 4, 4]}], ("image", "boxes"))
        True
        >>> has_valid_annotation([], ("image", "boxes")), has_valid_annotation([{}], ("boxes",))
        (False, False)
    """
    if len(anno) == 0:
        return False
    if ("boxes" in order or "boxes_category" in order) and "bbox" not in anno[0]:
        return False
    if "keypoints" in order:
        if "keypoints" not in anno[0] or _count_visible_keypoints(anno) < \
                min_keypoints_per_image:
            return False
    return True


class _JsonDetection(VisionDataset):
    """The COCO-format reader shared by COCO and Objects365."""

    supported_order = ("image", "boxes", "boxes_category", "info")

    def __init__(self, root, ann_file, remove_images_without_annotations=False, *, order=None):
        super().__init__(root, order=order, supported_order=self.supported_order)
        name = type(self).__name__
        if not os.path.isfile(ann_file):
            raise FileNotFoundError(f"{name}: annotation file {ann_file!r} does not exist")
        with open(ann_file, "r") as f:
            dataset = json.load(f)
        for key in ("images", "annotations", "categories"):
            if key not in dataset:
                raise ValueError(f"{name}: {ann_file} is not a COCO-format annotation file (no "
                                 f"{key!r} list)")
        wants_boxes = "boxes" in self.order or "boxes_category" in self.order
        self.imgs = {}
        for img in dataset["images"]:
            for key in ("license", "coco_url", "date_captured", "flickr_url"):
                img.pop(key, None)  # unused and large: MegEngine drops them too
            self.imgs[img["id"]] = img
        self.img_to_anns = defaultdict(list)
        for ann in dataset["annotations"]:
            if not wants_boxes:
                ann.pop("bbox", None)
            ann.pop("segmentation", None)
            self.img_to_anns[ann["image_id"]].append(ann)
        self.cats = {cat["id"]: cat for cat in dataset["categories"]}
        self.ids = sorted(self.imgs)
        if remove_images_without_annotations:
            kept = []
            for img_id in self.ids:
                anno = [obj for obj in self.img_to_anns[img_id] if obj.get("iscrowd", 0) == 0]
                anno = [obj for obj in anno if "bbox" not in obj
                        or (obj["bbox"][2] > 0 and obj["bbox"][3] > 0)]
                if self._keep(anno):
                    kept.append(img_id)
                    self.img_to_anns[img_id] = anno
                else:
                    del self.imgs[img_id]
                    self.img_to_anns.pop(img_id, None)
            self.ids = kept
        self.json_category_id_to_contiguous_id = {
            v: i + 1 for i, v in enumerate(sorted(self.cats))}
        self.contiguous_category_id_to_json_id = {
            v: k for k, v in self.json_category_id_to_contiguous_id.items()}

    def _keep(self, anno):
        return len(anno) > 0

    def __getitem__(self, index):
        img_id = self.ids[index]
        anno = self.img_to_anns[img_id]
        target = []
        for key in self.order:
            if key == "image":
                path = os.path.join(self.root, self.imgs[img_id]["file_name"])
                target.append(imread(path, fn=type(self).__name__))
            elif key == "boxes":
                # json boxes are xywh; samples carry xyxy
                boxes = np.array([obj["bbox"] for obj in anno], dtype=np.float32).reshape(-1, 4)
                boxes[:, 2:] += boxes[:, :2]
                target.append(boxes)
            elif key == "boxes_category":
                ids = [self.json_category_id_to_contiguous_id[obj["category_id"]]
                       for obj in anno]
                target.append(np.array(ids, dtype=np.int32))
            elif key == "keypoints":
                keypoints = [obj["keypoints"] for obj in anno]
                target.append(np.array(keypoints, dtype=np.float32).reshape(
                    -1, len(self.keypoint_names), 3))
            elif key == "info":
                info = self.imgs[img_id]
                target.append([info["height"], info["width"], info["file_name"]])
            else:
                raise NotImplementedError(f"{type(self).__name__}: unsupported field {key!r}")
        return tuple(target)

    def __len__(self):
        return len(self.ids)

    def get_img_info(self, index):
        return self.imgs[self.ids[index]]


class COCO(_JsonDetection):
    """`MS COCO <http://cocodataset.org>`_ detection / keypoints: images under root, annotations
    in a COCO json (instances_*.json, person_keypoints_*.json).

    Args:
        root: the image directory (the json's file_name values are relative to it).
        ann_file: the annotation json.
        remove_images_without_annotations: drop images without a non-crowd, non-empty box
            (and, with keypoints in order, with fewer than 10 visible keypoints). Default: False
        order: fields among "image" (HWC uint8 BGR), "boxes" ((N, 4) float32 xyxy),
            "boxes_category" ((N,) int32, 1-based contiguous ids), "keypoints"
            ((N, 17, 3) float32) and "info" ([height, width, file_name]). Default: ("image",)

    Examples:
        >>> from engine.data.dataset import COCO
        >>> COCO("train2017", "instances_train2017.json",
        ...      order=("image", "boxes", "boxes_category", "info"))  # doctest: +SKIP
    """

    supported_order = ("image", "boxes", "boxes_category", "keypoints", "info")
    class_names = tables.COCO_CLASS_NAMES
    classes_originID = dict(zip(tables.COCO_CLASS_NAMES, tables.COCO_ORIGINAL_IDS))
    keypoint_names = tables.COCO_KEYPOINT_NAMES

    def _keep(self, anno):
        return has_valid_annotation(anno, self.order)


class Objects365(_JsonDetection):
    """`Objects365 <https://www.objects365.org>`_: COCO-format json, 365 classes.

    Args:
        root: the image directory.
        ann_file: the annotation json.
        remove_images_without_annotations: drop images without a non-crowd, non-empty box.
            Default: False
        order: fields among "image", "boxes", "boxes_category" and "info", as in
            :class:`COCO`. Default: ("image",)

    Examples:
        >>> from engine.data.dataset import Objects365
        >>> Objects365("train", "objects365_train.json", order=("image", "boxes"))  # doctest: +SKIP
    """

    class_names = tables.OBJECTS365_CLASS_NAMES
