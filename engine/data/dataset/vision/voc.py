"""PascalVOC (megengine.data.dataset.PascalVOC): the VOCdevkit/VOC20xx layout."""
import collections
import os
import xml.etree.ElementTree as ET

import numpy as np

from . import _class_tables as tables
from .meta_vision import VisionDataset, imread

__all__ = ["PascalVOC"]


class PascalVOC(VisionDataset):
    """`Pascal VOC <http://host.robots.ox.ac.uk/pascal/VOC/>`_ detection or segmentation.

    root holds JPEGImages/<id>.jpg and, for detection, Annotations/<id>.xml with the ids in
    ImageSets/Main/<image_set>.txt; for segmentation, SegmentationClass/<id>.png (colour
    coded) or, when image_set contains "aug", SegmentationClass_aug/<id>.png (class indices),
    with the ids in ImageSets/Segmentation/<image_set>.txt.

    Args:
        root: the VOC20xx directory.
        image_set: the split name, e.g. "train", "val", "trainval".
        order: fields among "image" (HWC uint8 BGR), "boxes" ((N, 4) float32 xyxy),
            "boxes_category" ((N,) int32, 1-based), "mask" ((H, W, 1) uint8 class indices,
            255 unlabelled) and "info" ([height, width, id]); boxes and mask exclude each other.

    Examples:
        >>> from engine.data.dataset import PascalVOC
        >>> voc = PascalVOC("VOC2012", "train",
        ...                 order=("image", "boxes", "boxes_category"))  # doctest: +SKIP
    """

    supported_order = ("image", "boxes", "boxes_category", "mask", "info")
    class_names = tables.VOC_CLASS_NAMES
    class_colors = [list(c) for c in tables.VOC_CLASS_COLORS]

    def __init__(self, root, image_set, *, order=None):
        order = ("image",) if order is None else order
        detection = "boxes" in order or "boxes_category" in order
        if detection and "mask" in order:
            raise ValueError("PascalVOC only supports boxes & boxes_category or mask, not both.")
        if not detection and "mask" not in order:
            raise NotImplementedError(f"PascalVOC: order must contain 'boxes' / "
                                      f"'boxes_category' (detection) or 'mask' (segmentation), "
                                      f"got {tuple(order)}")
        super().__init__(root, order=order, supported_order=self.supported_order)
        if not os.path.isdir(self.root):
            raise RuntimeError(f"PascalVOC: dataset not found or corrupted: {self.root} is not "
                               "a directory")
        self.image_set = image_set
        kind = "Main" if detection else "Segmentation"
        split = os.path.join(self.root, "ImageSets", kind, image_set.rstrip("\n") + ".txt")
        if not os.path.isfile(split):
            raise FileNotFoundError(f"PascalVOC: split file {split} does not exist")
        with open(split) as f:
            self.file_names = [line.strip() for line in f if line.strip()]
        image_dir = os.path.join(self.root, "JPEGImages")
        self.images = [os.path.join(image_dir, x + ".jpg") for x in self.file_names]
        if detection:
            annotation_dir = os.path.join(self.root, "Annotations")
            self.annotations = [os.path.join(annotation_dir, x + ".xml") for x in self.file_names]
        else:
            folder = "SegmentationClass_aug" if "aug" in image_set else "SegmentationClass"
            self.masks = [os.path.join(self.root, folder, x + ".png") for x in self.file_names]
        self.img_infos = {}

    def __getitem__(self, index):
        target = []
        image = anno = None
        for key in self.order:
            if key == "image":
                image = imread(self.images[index], fn="PascalVOC")
                target.append(image)
            elif key in ("boxes", "boxes_category"):
                if anno is None:
                    anno = self.parse_voc_xml(ET.parse(self.annotations[index]).getroot())
                objects = anno["annotation"]["object"]
                if key == "boxes":
                    boxes = [[obj["bndbox"][k] for k in ("xmin", "ymin", "xmax", "ymax")]
                             for obj in objects]
                    target.append(np.array(boxes, dtype=np.float32).reshape(-1, 4))
                else:
                    labels = [self.class_names.index(obj["name"]) + 1 for obj in objects]
                    target.append(np.array(labels, dtype=np.int32))
            elif key == "mask":
                if "aug" in self.image_set:
                    mask = imread(self.masks[index], gray=True, fn="PascalVOC")
                else:
                    mask = self._trans_mask(imread(self.masks[index], fn="PascalVOC"))
                target.append(mask[:, :, np.newaxis])
            elif key == "info":
                info = self.get_img_info(index, image)
                target.append([info["height"], info["width"], info["file_name"]])
            else:
                raise NotImplementedError(f"PascalVOC: unsupported field {key!r}")
        return tuple(target)

    def __len__(self):
        return len(self.images)

    def get_img_info(self, index, image=None):
        if index not in self.img_infos:
            if image is None:
                image = imread(self.images[index], fn="PascalVOC")
            self.img_infos[index] = dict(height=image.shape[0], width=image.shape[1],
                                         file_name=self.file_names[index])
        return self.img_infos[index]

    def _trans_mask(self, mask):
        # colour-coded BGR png -> class indices; colours not in the palette become 255
        label = np.full(mask.shape[:2], 255, dtype=np.uint8)
        for i, (b, g, r) in enumerate(self.class_colors):
            label[(mask[:, :, 0] == b) & (mask[:, :, 1] == g) & (mask[:, :, 2] == r)] = i
        return label

    def parse_voc_xml(self, node):
        """The xml as nested dicts; annotation["object"] is always a list of objects."""
        children = list(node)
        if not children:
            return {node.tag: (node.text or "").strip()}
        fields = collections.defaultdict(list)
        for child in map(self.parse_voc_xml, children):
            for key, value in child.items():
                fields[key].append(value)
        if node.tag == "annotation":
            fields["object"] = [fields["object"]]
        return {node.tag: {k: v[0] if len(v) == 1 else v for k, v in fields.items()}}
