"""DataPreprocessor: moves a collated batch to the device and normalises the images there."""
import numpy as np

import engine as mge

__all__ = ["DataPreprocessor"]


PIXEL_MEAN = (123.675, 116.28, 103.53)  # ImageNet RGB statistics in 0..255
PIXEL_STD = (58.395, 57.12, 57.375)


class DataPreprocessor:
    """`pre(batch, training)` -> the batch with

        "images": (N, 3, Hp, Wp) float32 Tensor on `device`, (pixel - mean) / std per channel,
                  and 0 in the padding (detectron2 / MMEngine pad after normalising);
        "boxes":  list of N (K_i, 4) float32 Tensors; "labels": list of N (K_i,) int32 Tensors.

    The uint8 array is copied to the device first and converted there: a quarter of the bytes
    of a float32 copy. Other keys are passed through unchanged. `training` is accepted for the
    contract (MMEngine's signature); no step here differs between training and inference.

    Args:
        mean, std: per-channel RGB statistics in 0..255 pixel units (ImageNet's by default).
        device: target device name ("cpu0", "gpu0"); None: engine's default device at call time.
    """

    def __init__(self, mean=PIXEL_MEAN, std=PIXEL_STD, device=None):
        mean = np.asarray(mean, np.float32).reshape(-1)
        std = np.asarray(std, np.float32).reshape(-1)
        if mean.shape != (3,) or std.shape != (3,):
            raise ValueError(f"DataPreprocessor: mean and std need 3 values (RGB), got "
                             f"{mean.size} and {std.size}")
        if not (std > 0).all():
            raise ValueError(f"DataPreprocessor: std must be positive, got {std.tolist()}")
        self.mean = mean
        self.std = std
        self.device = device
        self._consts = {}  # device name -> (mean, 1/std) Tensors of shape (1, 3, 1, 1)

    def _constants(self, device):
        key = str(device)
        if key not in self._consts:
            self._consts[key] = (mge.Tensor(self.mean.reshape(1, 3, 1, 1), device=device),
                                 mge.Tensor((1.0 / self.std).reshape(1, 3, 1, 1), device=device))
        return self._consts[key]

    def __call__(self, batch, training=False):
        images = batch["images"]
        if isinstance(images, mge.Tensor):
            images = images.numpy()
        if not (isinstance(images, np.ndarray) and images.ndim == 4 and images.shape[1] == 3):
            raise ValueError(f"DataPreprocessor: batch['images'] must be an (N, 3, H, W) array, "
                             f"got {getattr(images, 'shape', type(images).__name__)}")
        device = self.device if self.device is not None else mge.get_default_device()
        mean, inv_std = self._constants(device)
        x = mge.Tensor(images, device=device).astype("float32")  # (N, 3, Hp, Wp)
        x = (x - mean) * inv_std
        sizes = np.asarray(batch["image_sizes"]).reshape(-1, 2)  # (N, 2) h, w
        n, _, hp, wp = images.shape
        if (sizes < (hp, wp)).any():
            valid = np.zeros((n, 1, hp, wp), np.uint8)  # 1 inside each image, 0 in its padding
            for i, (h, w) in enumerate(sizes):
                valid[i, :, :h, :w] = 1
            x = x * mge.Tensor(valid, device=device)
        out = dict(batch)
        out["images"] = x
        out["boxes"] = [mge.Tensor(np.asarray(b, np.float32).reshape(-1, 4), device=device)
                        for b in batch["boxes"]]
        out["labels"] = [mge.Tensor(np.asarray(lb, np.int32).reshape(-1), device=device)
                         for lb in batch["labels"]]
        return out
