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
    """Whether ``filename`` has an image extension (jpg, png, jpeg, ppm, bmp, pgm, tif, tiff,
    webp; any case).

    Examples:
        >>> from engine.data.dataset.vision.meta_vision import is_img
        >>> is_img("cat.JPG"), is_img("labels.txt")
        (True, False)
    """
    return filename.lower().endswith(IMG_EXT)


def default_dataset_root():
    """MegEngine's cache directory ($XDG_CACHE_HOME or ~/.cache, then megengine), so datasets
    MegEngine downloaded are found.

    Returns:
        the directory's path, ``~`` expanded (it need not exist).

    Examples:
        >>> from engine.data.dataset.vision.meta_vision import default_dataset_root
        >>> default_dataset_root().endswith("megengine")
        True
    """
    return os.path.expanduser(os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"),
                                           "megengine"))


def imread(path, gray=False, fn="dataset"):
    """The image at `path` as cv2.imread gives it: HWC uint8 BGR (IMREAD_COLOR), or (H, W)
    uint8 with gray=True (IMREAD_GRAYSCALE). OpenCV decodes when it is installed, PIL otherwise.

    Args:
        path: the image file.
        gray: read it as one gray channel.
        fn: the caller's name, for the error message.

    Returns:
        the uint8 image; a FileNotFoundError naming ``fn`` and ``path`` when it cannot be read.

    Examples:
        >>> import os, tempfile
        >>> from PIL import Image
        >>> from engine.data.dataset.vision.meta_vision import imread
        >>> path = os.path.join(tempfile.mkdtemp(), "red.png")
        >>> Image.new("RGB", (3, 2), (255, 0, 0)).save(path)
        >>> img = imread(path)
        >>> img.shape, img.dtype, img[0, 0].tolist()
        ((2, 3, 3), dtype('uint8'), [0, 0, 255])
        >>> imread(path, gray=True).shape
        (2, 3)
    """
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
    """The md5 hex digest of the file at ``path``, read in 1 MiB blocks.

    Examples:
        >>> import os, tempfile
        >>> from engine.data.dataset.vision.meta_vision import md5sum
        >>> path = os.path.join(tempfile.mkdtemp(), "empty")
        >>> open(path, "wb").close()
        >>> md5sum(path)
        'd41d8cd98f00b204e9800998ecf8427e'
    """
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_md5(path, expected, fn):
    """Raises a RuntimeError naming ``fn`` and ``path`` when the file's md5 is not
    ``expected`` (an incomplete or damaged download).

    Examples:
        >>> import os, tempfile
        >>> from engine.data.dataset.vision.meta_vision import check_md5
        >>> path = os.path.join(tempfile.mkdtemp(), "empty")
        >>> open(path, "wb").close()
        >>> check_md5(path, "d41d8cd98f00b204e9800998ecf8427e", "MNIST")
        >>> check_md5(path, "0" * 32, "MNIST")
        Traceback (most recent call last):
            ...
        RuntimeError: MNIST: ... exists but its md5 is d41d8cd98f00b204e9800998ecf8427e, ...
    """
    got = md5sum(path)
    if got != expected:
        raise RuntimeError(f"{fn}: {path} exists but its md5 is {got}, expected {expected}; "
                           "the file is incomplete or damaged, delete it and fetch it again")


def download(url, path, md5, fn, timeout=500):
    """Fetch url to path and check its md5; without a network, a RuntimeError naming both.

    Args:
        url: what to fetch.
        path: where to write it (through ``path + ".part"``, renamed when complete).
        md5: the expected md5 hex digest.
        fn: the caller's name, for the error message.
        timeout: seconds to wait for the server.

    Examples:
        >>> import os, tempfile
        >>> from engine.data.dataset.vision.meta_vision import download
        >>> path = os.path.join(tempfile.mkdtemp(), "x.gz")
        >>> download("file:///no/such/file.gz", path, "0" * 32, "MNIST")
        Traceback (most recent call last):
            ...
        RuntimeError: MNIST: download=True could not fetch file:///no/such/file.gz into ...
    """
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
    """Unpack a tar / tar.gz, refusing members that would land outside `to`.

    Examples:
        >>> import os, tarfile, tempfile
        >>> from engine.data.dataset.vision.meta_vision import extract
        >>> work = tempfile.mkdtemp()
        >>> with open(os.path.join(work, "a.txt"), "w") as f:
        ...     _ = f.write("hi")
        >>> with tarfile.open(os.path.join(work, "a.tar.gz"), "w:gz") as tar:
        ...     tar.add(os.path.join(work, "a.txt"), arcname="data/a.txt")
        >>> extract(os.path.join(work, "a.tar.gz"), os.path.join(work, "out"))
        >>> open(os.path.join(work, "out", "data", "a.txt")).read()
        'hi'
    """
    import tarfile

    with tarfile.open(archive) as tar:
        try:
            tar.extractall(to, filter="data")
        except TypeError:  # Python without extraction filters: check the paths ourselves
            root = os.path.realpath(to)
            for member in tar.getmembers():
                target = os.path.realpath(os.path.join(to, member.name))
                if os.path.commonpath([root, target]) != root:
                    raise RuntimeError(
                        f"{archive}: member {member.name!r} escapes {to}") from None
            tar.extractall(to)
