"""MNIST (megengine.data.dataset.MNIST): the four gzipped idx files."""
import gzip
import os
import struct

import numpy as np

from .meta_vision import VisionDataset, default_dataset_root, download

__all__ = ["MNIST"]

_IDX3_MAGIC, _IDX1_MAGIC = 2051, 2049


class MNIST(VisionDataset):
    """MNIST read from the gzipped idx files in root (train-images-idx3-ubyte.gz, ...).

    Args:
        root: the directory. Default: None (~/.cache/megengine/MNIST, MegEngine's cache)
        train: the 60000 training images (True) or the 10000 test images. Default: True
        download: fetch missing files from `url_path` (a RuntimeError naming the URL and the
            file when there is no network); False raises ValueError. Default: True

    Returns:
        samples (image, label): a (28, 28, 1) uint8 image and its np.int32 label.

    Examples:
        >>> from engine.data.dataset import MNIST
        >>> image, label = MNIST("/data/mnist", download=False)[0]  # doctest: +SKIP
    """

    url_path = "https://ossci-datasets.s3.amazonaws.com/mnist/"
    raw_file_name = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    raw_file_md5 = ["f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                    "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"]

    def __init__(self, root=None, train=True, download=True):
        super().__init__(root, order=("image", "image_category"))
        if root is None:
            self.root = os.path.join(default_dataset_root(), "MNIST")
            os.makedirs(self.root, exist_ok=True)
        elif not os.path.exists(self.root):
            if not download:
                raise ValueError(f"MNIST: dir {self.root} does not exist")
            os.makedirs(self.root)
        if not self._check_raw_files():
            if not download:
                missing = [f for f in self.raw_file_name
                           if not os.path.exists(os.path.join(self.root, f))]
                raise ValueError(f"MNIST: root {self.root} does not contain valid raw files "
                                 f"(missing {missing}); please set download=True")
            self.download()
        self.process(train)

    def __getitem__(self, index):
        return tuple(array[index] for array in self.arrays)

    def __len__(self):
        return len(self.arrays[0])

    @property
    def meta(self):
        return self._meta_data

    def _check_raw_files(self):
        return all(os.path.exists(os.path.join(self.root, f)) for f in self.raw_file_name)

    def download(self):
        for name, md5 in zip(self.raw_file_name, self.raw_file_md5):
            path = os.path.join(self.root, name)
            if not os.path.exists(path):
                download(self.url_path + name, path, md5, "MNIST")

    def process(self, train):
        images_file, labels_file = self.raw_file_name[:2] if train else self.raw_file_name[2:]
        meta_images, images = parse_idx3(os.path.join(self.root, images_file))
        meta_labels, labels = parse_idx1(os.path.join(self.root, labels_file))
        if len(images) != len(labels):
            raise ValueError(f"MNIST: {images_file} has {len(images)} images but {labels_file} "
                             f"has {len(labels)} labels")
        self._meta_data = {"images": meta_images, "labels": meta_labels}
        self.arrays = (images, labels.astype(np.int32))


def _read_idx(path, magic, header):
    if not path.endswith(".gz"):
        raise ValueError(f"MNIST: expected a gzipped idx file (.gz), got {path}")
    with gzip.open(path, "rb") as f:
        data = f.read()
    fields = struct.unpack_from(">" + "i" * header, data, 0)
    if fields[0] != magic:
        raise ValueError(f"MNIST: {path} is not an idx file: magic number {fields[0]}, "
                         f"expected {magic}")
    return fields, np.frombuffer(data, dtype=np.uint8, offset=4 * header)


def parse_idx3(path):
    """(meta, images): a list of (H, W, 1) uint8 images from a gzipped idx3 file (MNIST's
    image format: magic 2051, count, height, width as big-endian int32, then the pixels).

    Examples:
        >>> import gzip, os, struct, tempfile
        >>> from engine.data.dataset.vision.mnist import parse_idx3
        >>> path = os.path.join(tempfile.mkdtemp(), "images-idx3-ubyte.gz")
        >>> with gzip.open(path, "wb") as f:
        ...     _ = f.write(struct.pack(">4i", 2051, 2, 2, 3) + bytes(range(12)))
        >>> meta, images = parse_idx3(path)
        >>> meta
        {'magic': 2051, 'imgs': 2, 'height': 2, 'width': 3}
        >>> len(images), images[1].shape, images[1][..., 0].tolist()
        (2, (2, 3, 1), [[6, 7, 8], [9, 10, 11]])
    """
    (magic, count, height, width), pixels = _read_idx(path, _IDX3_MAGIC, 4)
    if pixels.size != count * height * width:
        raise ValueError(f"MNIST: {path} holds {pixels.size} pixels, its header says "
                         f"{count} x {height} x {width}")
    images = pixels.reshape(count, height, width, 1)
    meta = {"magic": magic, "imgs": count, "height": height, "width": width}
    return meta, list(images.copy())


def parse_idx1(path):
    """(meta, labels) from a gzipped idx1 file (MNIST's label format: magic 2049 and the
    count as big-endian int32, then one byte per label); the labels are int64.

    Examples:
        >>> import gzip, os, struct, tempfile
        >>> from engine.data.dataset.vision.mnist import parse_idx1
        >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
        >>> with gzip.open(path, "wb") as f:
        ...     _ = f.write(struct.pack(">2i", 2049, 3) + bytes([7, 0, 9]))
        >>> parse_idx1(path)
        ({'magic': 2049, 'imgs': 3}, array([7, 0, 9]))
    """
    (magic, count), labels = _read_idx(path, _IDX1_MAGIC, 2)
    if labels.size != count:
        raise ValueError(f"MNIST: {path} holds {labels.size} labels, its header says {count}")
    return {"magic": magic, "imgs": count}, labels.astype(np.int64)
