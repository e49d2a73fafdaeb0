"""VisionDataset (megengine.data.dataset.VisionDataset): the base of the image datasets, and the
helpers they share (reading images as OpenCV does, the default root, download errors)."""
import collections.abc
import hashlib
import os

import numpy as np

from ..meta_dataset import MapDataset

__all__ = ["VisionDataset"]

IMG_EXT = (".jpg", ".png", ".jpeg", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class VisionDataset(MapDataset):
    """Base class of image datasets whose samples are tuples of fields named by `order`.

    Args:
        root: the dataset's directory (`~` is expanded).
        order: the fields of each sample, e.g. ("image", "boxes", "boxes_category").
            Default: ("image",)
        supported_order: the field names the subclass can produce; others raise
            NotImplementedError. Default: None (no check)

    Examples:
        >>> from engine.data.dataset import VisionDataset
        >>> class Blank(VisionDataset):
        ...     def __getitem__(self, i):
        ...         return ("pixels",)
        ...     def __len__(self):
        ...         return 1
        >>> Blank("~/data", order=("image",), supported_order=("image",)).order
        ('image',)
    """

    def __init__(self, root, *, order=None, supported_order=None):
        if isinstance(root, (str, bytes)):
            root = os.path.expanduser(root)
        self.root = root
        if order is None:
            order = ("image",)
        if isinstance(order, str) or not isinstance(order, collections.abc.Sequence):
            raise ValueError(f"{type(self).__name__}: order should be a sequence of field "
                             f"names, but got order={order!r}")
        if supported_order is not None:
            for key in order:
                if key not in supported_order:
                    raise NotImplementedError(f"{type(self).__name__}: {key!r} is an "
                                              f"unsupported data type; supported: "
                                              f"{tuple(supported_order)}")
        self.order = tuple(order)

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


def is_img(filename):
    return filename.lower().endswith(IMG_EXT)


def default_dataset_root():
    """MegEngine's cache directory ($XDG_CACHE_HOME or ~/.cache, then megengine), so datasets
    MegEngine downloaded are found."""
    return os.path.expanduser(os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"),
                                           "megengine"))


def imread(path, gray=False, fn="dataset"):
    """The image at `path` as cv2.imread gives it: HWC uint8 BGR (IMREAD_COLOR), or (H, W)
    uint8 with gray=True (IMREAD_GRAYSCALE). OpenCV decodes when it is installed, PIL otherwise."""
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        image = cv2.imread(path, cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"{fn}: cannot read image {path!r} (missing or not an image)")
        return image
    from PIL import Image

    try:
        with Image.open(path) as im:
            if gray:
                return np.asarray(im.convert("L"))
            return np.ascontiguousarray(np.asarray(im.convert("RGB"))[..., ::-1])
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(f"{fn}: cannot read image {path!r} (missing or not an image: "
                                f"{exc})") from None


def md5sum(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_md5(path, expected, fn):
    got = md5sum(path)
    if got != expected:
        raise RuntimeError(f"{fn}: {path} exists but its md5 is {got}, expected {expected}; "
                           "the file is incomplete or damaged, delete it and fetch it again")


def download(url, path, md5, fn, timeout=500):
    """Fetch url to path and check its md5; without a network, a RuntimeError naming both."""
    import urllib.error
    import urllib.request

    partial = path + ".part"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, \
                open(partial, "wb") as out:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
    except (urllib.error.URLError, OSError) as exc:
        if os.path.exists(partial):
            os.remove(partial)
        raise RuntimeError(f"{fn}: download=True could not fetch {url} into {path} ({exc}). "
                           f"Without network access, download the file elsewhere and put it "
                           f"at {path}, or pass download=False with an extracted copy in "
                           "root") from None
    os.replace(partial, path)
    check_md5(path, md5, fn)


def extract(archive, to):
    """Unpack a tar / tar.gz, refusing members that would land outside `to`."""
    import tarfile

    with tarfile.open(archive) as tar:
        try:
            tar.extractall(to, filter="data")
        except TypeError:  # Python without extraction filters: check the paths ourselves
            root = os.path.realpath(to)
            for member in tar.getmembers():
                target = os.path.realpath(os.path.join(to, member.name))
                if os.path.commonpath([root, target]) != root:
                    raise RuntimeError(f"{archive}: member {member.name!r} escapes {to}")
            tar.extractall(to)
