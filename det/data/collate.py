"""Collating detection items into the contract's batch: uint8 images zero padded together."""
import numpy as np

__all__ = ["DetCollator", "pad_images"]


def pad_images(images, size_divisibility=32):
    """Stack (H_i, W_i, 3) uint8 images into (N, 3, Hp, Wp) uint8, zero padded at the bottom and
    right, with Hp, Wp the largest H, W rounded up to a multiple of size_divisibility.
    Returns (batch, image_sizes) with image_sizes (N, 2) int32 (h, w) before padding."""
    if not images:
        raise ValueError("pad_images: cannot pad an empty list of images")
    for i, im in enumerate(images):
        if not (isinstance(im, np.ndarray) and im.dtype == np.uint8 and im.ndim == 3
                and im.shape[2] == 3):
            raise ValueError(f"pad_images: image {i} must be an (H, W, 3) uint8 array, got "
                             f"{getattr(im, 'dtype', type(im).__name__)} of shape "
                             f"{getattr(im, 'shape', None)}")
    d = int(size_divisibility) if size_divisibility else 1
    sizes = np.array([im.shape[:2] for im in images], np.int32)  # (N, 2)
    hp, wp = (-(-sizes.max(axis=0) // d) * d).tolist()
    # uint8 on purpose: the host->device copy is a quarter of float32's (normalised on device)
    batch = np.zeros((len(images), 3, hp, wp), np.uint8)
    for i, im in enumerate(images):
        batch[i, :, :im.shape[0], :im.shape[1]] = im.transpose(2, 0, 1)
    return batch, sizes


class DetCollator:
    """engine.data Collator for detection items (see det.data.transforms for the item):

        {"images": (N, 3, Hp, Wp) uint8, "image_sizes": (N, 2) int32, "boxes": [(K_i, 4)
         float32], "labels": [(K_i,) int32], "image_ids": [int], "orig_sizes": (N, 2) int32,
         "scales": (N, 2) float32, "flipped": [bool]}
    """

    def __init__(self, size_divisibility=32):
        if isinstance(size_divisibility, bool) or not isinstance(size_divisibility, int) \
                or size_divisibility < 0:
            raise ValueError(f"DetCollator: size_divisibility must be a non-negative int, got "
                             f"{size_divisibility!r}")
        self.size_divisibility = size_divisibility

    def apply(self, items):
        items = list(items)
        images, image_sizes = pad_images([it["image"] for it in items], self.size_divisibility)
        return {
            "images": images,
            "image_sizes": image_sizes,
            "boxes": [np.asarray(it["boxes"], np.float32).reshape(-1, 4) for it in items],
            "labels": [np.asarray(it["labels"], np.int32).reshape(-1) for it in items],
            "image_ids": [int(it["image_id"]) for it in items],
            "orig_sizes": np.array([it["orig_size"] for it in items], np.int32).reshape(-1, 2),
            "scales": np.array([it["scale"] for it in items], np.float32).reshape(-1, 2),
            "flipped": [bool(it["flipped"]) for it in items],
        }
