"""ImageFolder (megengine.data.dataset.ImageFolder): root/<class>/<image> trees."""
import os

import numpy as np

from .meta_vision import VisionDataset, imread, is_img

__all__ = ["ImageFolder"]


class ImageFolder(VisionDataset):
    """Images in class folders, root/<class name>/.../<image>; labels are the indices of the
    sorted class names.

    Args:
        root: the directory holding one folder per class.
        check_valid_func: path -> bool, the files to keep. Default: None (image extensions:
            .jpg .png .jpeg .ppm .bmp .pgm .tif .tiff .webp)
        class_name: give the class name instead of its index as the label. Default: False

    Returns:
        samples (image, label): image an HWC uint8 BGR array (as cv2.imread reads it), label
        an np.int32 index (or the class name).

    Examples:
        >>> from engine.data.dataset import ImageFolder
        >>> ImageFolder("/path/to/train")  # doctest: +SKIP
    """

    def __init__(self, root, check_valid_func=None, class_name=False):
        super().__init__(root, order=("image", "image_category"))
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"{type(self).__name__}: root {self.root!r} is not a "
                                    "directory")
        self.check_valid = is_img if check_valid_func is None else check_valid_func
        self.class_name = class_name
        self.class_dict = self.collect_class()
        self.samples = self.collect_samples()

    def collect_class(self):
        classes = sorted(d.name for d in os.scandir(self.root) if d.is_dir())
        return {name: np.int32(i) for i, name in enumerate(classes)}

    def collect_samples(self):
        samples = []
        for key in sorted(self.class_dict):
            folder = os.path.join(self.root, key)
            for dirpath, _, filenames in sorted(os.walk(folder, followlinks=True)):
                for name in sorted(filenames):
                    path = os.path.join(dirpath, name)
                    if self.check_valid(path):
                        samples.append((path, key if self.class_name else self.class_dict[key]))
        return samples

    def __getitem__(self, index):
        path, label = self.samples[index]
        return imread(path, fn=type(self).__name__), label

    def __len__(self):
        return len(self.samples)
