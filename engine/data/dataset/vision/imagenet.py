"""ImageNet (megengine.data.dataset.ImageNet): ILSVRC2012 as class folders, or from its tars."""
import os
import pickle
import shutil

from .folder import ImageFolder
from .meta_vision import check_md5, default_dataset_root, extract

__all__ = ["ImageNet"]


class ImageNet(ImageFolder):
    """ILSVRC2012 read as an :class:`ImageFolder` of root/train/<wnid>/*.JPEG (or root/val).

    When that folder is missing, it is built from the raw files in root
    (ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar, ILSVRC2012_devkit_t12.tar.gz, md5
    checked): the train tar holds one tar per class, the val images are sorted into class
    folders with the devkit's ground truth (reading its meta.mat needs scipy). Nothing is
    downloaded: ImageNet must be obtained from image-net.org.

    Args:
        root: the directory. Default: None (~/.cache/megengine/ImageNet)
        train: the train split (True) or the validation split. Default: True
        **kwargs: passed to :class:`ImageFolder` (check_valid_func, class_name).

    Returns:
        samples (image, label): an HWC uint8 BGR image and the np.int32 index of its sorted
        wnid.

    Examples:
        >>> from engine.data.dataset import ImageNet
        >>> ImageNet("/data/imagenet", train=False)  # doctest: +SKIP
    """

    raw_file_meta = {
        "train": ("ILSVRC2012_img_train.tar", "1d675b47d978889d74fa0da5fadfb00e"),
        "val": ("ILSVRC2012_img_val.tar", "29b22e2961454d5413ddabcf34fc5622"),
        "devkit": ("ILSVRC2012_devkit_t12.tar.gz", "fa75699e90414af021442c21a62c3abf"),
    }
    default_train_dir = "train"
    default_val_dir = "val"
    default_devkit_dir = "ILSVRC2012_devkit_t12"

    def __init__(self, root=None, train=True, **kwargs):
        self.root = os.path.join(default_dataset_root(), "ImageNet") if root is None \
            else os.path.expanduser(root)
        if not os.path.exists(self.root):
            raise FileNotFoundError(f"ImageNet: dir {self.root} does not exist")
        self.devkit_dir = os.path.join(self.root, self.default_devkit_dir)
        devkit_tar = os.path.join(self.root, self.raw_file_meta["devkit"][0])
        if not os.path.exists(self.devkit_dir) and os.path.exists(devkit_tar):
            self._prepare_devkit()
        self.train = train
        split = self.default_train_dir if train else self.default_val_dir
        self.target_folder = os.path.join(self.root, split)
        if not os.path.exists(self.target_folder):
            if not self.check_raw_file():
                raw = [name for name, _ in self.raw_file_meta.values()]
                raise FileNotFoundError(f"ImageNet: expected image folder {self.target_folder} "
                                        f"does not exist, and the raw files {raw} are not all "
                                        f"in {self.root}")
            self._prepare_train() if train else self._prepare_val()
        super().__init__(self.target_folder, **kwargs)

    @property
    def valid_ground_truth(self):
        path = os.path.join(self.devkit_dir, "data", "ILSVRC2012_validation_ground_truth.txt")
        if not os.path.exists(path):
            raise FileNotFoundError(f"ImageNet: valid ground truth file {path} does not exist")
        with open(path) as f:
            return [int(line) for line in f if line.strip()]

    @property
    def meta(self):
        """(idx_to_wnid, wnid_to_classes) from the devkit (cached as meta.pkl)."""
        cached = os.path.join(self.devkit_dir, "meta.pkl")
        if os.path.exists(cached):
            with open(cached, "rb") as f:
                return pickle.load(f)
        path = os.path.join(self.devkit_dir, "data", "meta.mat")
        if not os.path.exists(path):
            raise FileNotFoundError(f"ImageNet: meta file {path} does not exist")
        try:
            import scipy.io
        except ImportError:
            raise ImportError(f"ImageNet: reading {path} needs scipy (pip install scipy)") \
                from None
        synsets = scipy.io.loadmat(path, squeeze_me=True)["synsets"]
        leaves = [s for s in synsets if s[4] == 0]  # num_children == 0: the 1000 classes
        idx_to_wnid = {int(s[0]): s[1] for s in leaves}
        wnid_to_classes = {s[1]: tuple(s[2].split(", ")) for s in leaves}
        with open(cached, "wb") as f:
            pickle.dump((idx_to_wnid, wnid_to_classes), f)
        return idx_to_wnid, wnid_to_classes

    def check_raw_file(self):
        return all(os.path.exists(os.path.join(self.root, name))
                   for name, _ in self.raw_file_meta.values())

    def _raw(self, key):
        name, md5 = self.raw_file_meta[key]
        path = os.path.join(self.root, name)
        check_md5(path, md5, "ImageNet")
        return path

    def _prepare_devkit(self):
        extract(self._raw("devkit"), self.root)

    def _prepare_train(self):
        extract(self._raw("train"), self.target_folder)
        for name in sorted(os.listdir(self.target_folder)):  # one <wnid>.tar per class
            if name.endswith(".tar"):
                path = os.path.join(self.target_folder, name)
                extract(path, os.path.join(self.target_folder, name[:-4]))
                os.remove(path)

    def _prepare_val(self):
        extract(self._raw("val"), self.target_folder)
        self._organize_val_data()

    def _organize_val_data(self):
        idx_to_wnid = self.meta[0]
        wnids = [idx_to_wnid[i] for i in self.valid_ground_truth]
        images = sorted(os.listdir(self.target_folder))
        if len(images) != len(wnids):
            raise RuntimeError(f"ImageNet: {len(images)} validation images but "
                               f"{len(wnids)} ground-truth labels")
        for wnid, image in zip(wnids, images):
            os.makedirs(os.path.join(self.target_folder, wnid), exist_ok=True)
            shutil.move(os.path.join(self.target_folder, image),
                        os.path.join(self.target_folder, wnid, image))
