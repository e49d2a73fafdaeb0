"""CIFAR10 / CIFAR100 (megengine.data.dataset): the python-pickle releases."""
import os
import pickle

import numpy as np

from .meta_vision import VisionDataset, check_md5, default_dataset_root, download, extract

__all__ = ["CIFAR10", "CIFAR100"]


class CIFAR10(VisionDataset):
    """CIFAR-10 read from root/cifar-10-batches-py (the extracted cifar-10-python.tar.gz).

    If that folder is missing, root/cifar-10-python.tar.gz is checked (md5) and extracted; if
    that is missing too, download=True fetches it from `url_path` (a RuntimeError naming the
    URL and the file when there is no network) and download=False raises ValueError.

    Args:
        root: the directory. Default: None (~/.cache/megengine/CIFAR10, MegEngine's cache)
        train: the 50000 training images (True) or the 10000 test images. Default: True
        download: fetch the archive when it is not in root. Default: True
        timeout: seconds to wait for the download. Default: 500

    Returns:
        samples (image, label): a (32, 32, 3) uint8 BGR image and its np.int32 label.

    Examples:
        >>> from engine.data.dataset import CIFAR10
        >>> CIFAR10("/data/cifar", train=False, download=False)  # doctest: +SKIP
    """

    url_path = "http://www.cs.utoronto.ca/~kriz/"
    raw_file_name = "cifar-10-python.tar.gz"
    raw_file_md5 = "c58f30108f718f92721af3b95e74349a"
    raw_file_dir = "cifar-10-batches-py"
    train_batch = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                   "data_batch_5"]
    test_batch = ["test_batch"]
    meta_info = {"name": "batches.meta"}
    label_keys = (b"labels",)

    def __init__(self, root=None, train=True, download=True, timeout=500):
        super().__init__(root, order=("image", "image_category"))
        self.timeout = timeout
        name = type(self).__name__
        if root is None:
            self.root = os.path.join(default_dataset_root(), name)
            os.makedirs(self.root, exist_ok=True)
        elif not os.path.exists(self.root):
            if not download:
                raise ValueError(f"{name}: dir {self.root} does not exist")
            os.makedirs(self.root)
        self.target_file = os.path.join(self.root, self.raw_file_dir)
        if not os.path.exists(self.target_file):
            archive = os.path.join(self.root, self.raw_file_name)
            if not os.path.exists(archive):
                if not download:
                    raise ValueError(f"{name}: {self.root} contains neither "
                                     f"{self.raw_file_dir} nor {self.raw_file_name}; please "
                                     "set download=True")
                self.download()
            self.process()
        self.arrays = self.bytes2array(self.train_batch if train else self.test_batch)

    def __getitem__(self, index):
        return tuple(array[index] for array in self.arrays)

    def __len__(self):
        return len(self.arrays[0])

    @property
    def meta(self):
        path = os.path.join(self.root, self.raw_file_dir, self.meta_info["name"])
        with open(path, "rb") as f:
            return pickle.load(f, encoding="bytes")

    def download(self):
        download(self.url_path + self.raw_file_name, os.path.join(self.root, self.raw_file_name),
                 self.raw_file_md5, type(self).__name__, self.timeout)

    def process(self):
        archive = os.path.join(self.root, self.raw_file_name)
        check_md5(archive, self.raw_file_md5, type(self).__name__)
        extract(archive, self.root)

    def _load_batch(self, filename):
        path = os.path.join(self.root, self.raw_file_dir, filename)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{type(self).__name__}: missing batch file {path}")
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        # rows are 3072 bytes, R plane then G then B: (N, 3, 32, 32) -> HWC with BGR channels
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        images = images.transpose(0, 2, 3, 1)[..., ::-1]
        return [np.ascontiguousarray(im) for im in images], [batch[k] for k in self.label_keys]

    def bytes2array(self, filenames):
        data, labels = [], [[] for _ in self.label_keys]
        for filename in filenames:
            images, batch_labels = self._load_batch(filename)
            data.extend(images)
            for out, values in zip(labels, batch_labels):
                out.extend(values)
        return (data, *(np.array(values, dtype=np.int32) for values in labels))


class CIFAR100(CIFAR10):
    """CIFAR-100 read from root/cifar-100-python, as :class:`CIFAR10` reads CIFAR-10.

    Args:
        root: the directory. Default: None (~/.cache/megengine/CIFAR100)
        train: the training split (True) or the test split. Default: True
        download: fetch the archive when it is not in root. Default: True
        timeout: seconds to wait for the download. Default: 500

    Returns:
        samples (image, fine_label, coarse_label): a (32, 32, 3) uint8 BGR image and two
        np.int32 labels (100 fine classes, 20 superclasses).

    Examples:
        >>> from engine.data.dataset import CIFAR100
        >>> CIFAR100("/data/cifar", download=False)  # doctest: +SKIP
    """

    raw_file_name = "cifar-100-python.tar.gz"
    raw_file_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    raw_file_dir = "cifar-100-python"
    train_batch = ["train"]
    test_batch = ["test"]
    meta_info = {"name": "meta"}
    label_keys = (b"fine_labels", b"coarse_labels")
