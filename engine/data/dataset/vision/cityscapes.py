"""Cityscapes (megengine.data.dataset.Cityscapes): leftImg8bit images with gtFine/gtCoarse
semantic labels."""
import json
import os

import numpy as np

from . import _class_tables as tables
from .meta_vision import VisionDataset, imread

__all__ = ["Cityscapes"]


class Cityscapes(VisionDataset):
    """`Cityscapes <http://www.cityscapes-dataset.com/>`_ semantic segmentation.

    Images are root/leftImg8bit/<image_set>/<city>/<name>_leftImg8bit.png, labels
    root/<mode>/<image_set>/<city>/<name>_<mode>_labelIds.png. Samples are listed city by city
    and file by file in sorted order (MegEngine uses the directory order).

    Args:
        root: the Cityscapes directory.
        image_set: "train", "val", "test" (or "train_extra" for gtCoarse).
        mode: "gtFine" or "gtCoarse".
        order: fields among "image" (HWC uint8 BGR), "mask" ((H, W, 1) uint8 train ids
            0..18, 255 ignored) and "info" ([height, width, image path]). Default: ("image",)

    Examples:
        >>> from engine.data.dataset import Cityscapes
        >>> Cityscapes("cityscapes", "train", "gtFine", order=("image", "mask"))  # doctest: +SKIP
    """

    supported_order = ("image", "mask", "info")
    class_names = tables.CITYSCAPES_CLASS_NAMES

    def __init__(self, root, image_set, mode, *, order=None):
        super().__init__(root, order=order, supported_order=self.supported_order)
        if not os.path.isdir(self.root):
            raise RuntimeError(f"Cityscapes: dataset not found or corrupted: {self.root} is "
                               "not a directory")
        self.mode = mode
        self.images_dir = os.path.join(self.root, "leftImg8bit", image_set)
        self.masks_dir = os.path.join(self.root, mode, image_set)
        if not os.path.isdir(self.images_dir):
            raise FileNotFoundError(f"Cityscapes: image folder {self.images_dir} does not exist")
        self.images, self.masks = [], []
        suffix = self._get_target_suffix(mode, "semantic")
        for city in sorted(os.listdir(self.images_dir)):
            img_dir = os.path.join(self.images_dir, city)
            for file_name in sorted(os.listdir(img_dir)):
                stem = file_name.split("_leftImg8bit")[0]
                self.images.append(os.path.join(img_dir, file_name))
                self.masks.append(os.path.join(self.masks_dir, city, f"{stem}_{suffix}"))

    def __getitem__(self, index):
        target = []
        image = None
        for key in self.order:
            if key == "image":
                image = imread(self.images[index], fn="Cityscapes")
                target.append(image)
            elif key == "mask":
                mask = imread(self.masks[index], gray=True, fn="Cityscapes")
                target.append(self._trans_mask(mask)[:, :, np.newaxis])
            elif key == "info":
                if image is None:
                    image = imread(self.images[index], fn="Cityscapes")
                target.append([image.shape[0], image.shape[1], self.images[index]])
        return tuple(target)

    def __len__(self):
        return len(self.images)

    def _trans_mask(self, mask):
        # labelIds -> the 19 training ids; every other id becomes 255 (ignored)
        label = np.full(mask.shape, 255, dtype=np.uint8)
        for i, label_id in enumerate(tables.CITYSCAPES_TRAIN_LABEL_IDS):
            label[mask == label_id] = i
        return label

    def _get_target_suffix(self, mode, target_type):
        suffixes = {"instance": "instanceIds.png", "semantic": "labelIds.png",
                    "color": "color.png"}
        return f"{mode}_{suffixes.get(target_type, 'polygons.json')}"

    def _load_json(self, path):
        with open(path) as f:
            return json.load(f)
