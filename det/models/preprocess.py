"""The data preprocessor a model owns (contract: det.data.DataPreprocessor).

det.data.DataPreprocessor is det_data's; while that package is absent (branches developed in
parallel), models use the local class below, which follows the same contract: the uint8 images
go to the device first (a quarter of float32's bytes) and are normalised there.
"""
import numpy as np

from engine import Tensor

__all__ = ["build_data_preprocessor", "LocalDataPreprocessor", "PIXEL_MEAN", "PIXEL_STD"]

PIXEL_MEAN = (123.675, 116.28, 103.53)  # ImageNet RGB statistics in 0..255
PIXEL_STD = (58.395, 57.12, 57.375)


class LocalDataPreprocessor:
    """`__call__(batch, training)` -> the batch with "images" a normalised (N, 3, Hp, Wp) float32
    Tensor and "boxes" / "labels" lists of Tensors."""

    def __init__(self, mean=PIXEL_MEAN, std=PIXEL_STD, device=None):
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"DataPreprocessor: mean and std must be 3 numbers (std positive), "
                             f"got mean={mean}, std={std}")
        self.mean = np.asarray(mean, np.float32).reshape(1, 3, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(1, 3, 1, 1)
        self.device = device

    def __call__(self, batch, training=False):
        images = batch["images"]
        if isinstance(images, Tensor):
            images = images.numpy()
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"DataPreprocessor: batch['images'] must be (N, 3, H, W), got "
                             f"{images.shape}")
        out = dict(batch)
        x = Tensor(images, device=self.device).astype("float32")
        out["images"] = (x - self.mean) / self.std
        if "boxes" in batch:
            out["boxes"] = [Tensor(np.asarray(b, np.float32).reshape(-1, 4), device=self.device)
                            for b in batch["boxes"]]
        if "labels" in batch:
            out["labels"] = [Tensor(np.asarray(lab, np.int32).reshape(-1), device=self.device)
                             for lab in batch["labels"]]
        return out


def build_data_preprocessor(mean=PIXEL_MEAN, std=PIXEL_STD, device=None):
    """det.data.DataPreprocessor when det.data exists, else LocalDataPreprocessor."""
    try:
        from det.data import DataPreprocessor
    except ModuleNotFoundError as e:
        if e.name not in ("det.data", "det"):
            raise
        return LocalDataPreprocessor(mean, std, device)
    return DataPreprocessor(mean=mean, std=std, device=device)
