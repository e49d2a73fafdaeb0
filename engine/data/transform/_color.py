"""Colour-space conversions on HWC BGR numpy images, computed as OpenCV's cvtColor computes them
(so the colour transforms give MegEngine's numbers without needing cv2):

  * to_gray: Y = 0.299 R + 0.587 G + 0.114 B; uint8 in 15-bit fixed point with rounding, float
    images in float32 with OpenCV's order of fused multiply-adds.
  * bgr_to_hsv_full / hsv_full_to_bgr: cv2.COLOR_BGR2HSV_FULL / COLOR_HSV2BGR_FULL on uint8,
    where hue spans the whole byte (0..255 for 0..360 degrees). The forward pass uses OpenCV's
    12-bit fixed-point division tables (bit-exact), the backward pass its float sector formula
    (a few borderline pixels per million, where v * (1 - s f) * 255 is within an ulp of .5,
    round the other way).
"""
import numpy as np

__all__ = ["to_gray", "to_bgr", "bgr_to_hsv_full", "hsv_full_to_bgr"]

_GRAY_SHIFT = 15
_B2Y, _G2Y, _R2Y = 3735, 19235, 9798  # round((0.114, 0.587, 0.299) * 2**15)
_HSV_SHIFT = 12


def _check_bgr(image, fn):
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{fn}: expected a BGR image of shape (H, W, 3), got shape "
                         f"{image.shape}")
    return image


def to_gray(image):
    """Converts a BGR image to gray, ``Y = 0.299 R + 0.587 G + 0.114 B``, as OpenCV's
    ``cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)`` computes it (MegEngine's F.to_gray).

    Args:
        image: a BGR numpy image of shape (H, W, 3).

    Returns:
        the gray image, shape (H, W, 1), of ``image``'s dtype (uint8 rounded as OpenCV).

    Examples:
        >>> from engine.data.transform.functional import to_gray
        >>> img = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], "uint8")
        >>> to_gray(img)[..., 0]
        array([[ 29, 150],
               [ 76,  22]], dtype=uint8)
        >>> to_gray(np.full((1, 1, 3), 0.5, "float32"))
        array([[[0.5]]], dtype=float32)
    """
    image = _check_bgr(image, "to_gray")
    if image.dtype == np.uint8:
        b, g, r = (image[..., i].astype(np.int32) for i in range(3))
        y = (b * _B2Y + g * _G2Y + r * _R2Y + (1 << (_GRAY_SHIFT - 1))) >> _GRAY_SHIFT
        return y.astype(np.uint8)[..., None]
    work = image.astype(np.float32, copy=False)
    # OpenCV's vector order: y = g * 0.587, y = fma(b, 0.114, y), y = fma(r, 0.299, y); a
    # float32 product is exact in float64, so float64 then float32 rounds like the fma
    y = work[..., 1] * np.float32(0.587)
    for channel, coef in ((0, 0.114), (2, 0.299)):
        y = (work[..., channel].astype(np.float64) * np.float64(np.float32(coef))
             + y).astype(np.float32)
    return y.astype(image.dtype, copy=False)[..., None]


def to_bgr(image):
    """Converts a gray image to BGR by repeating its one channel three times (MegEngine's
    F.to_bgr). Unlike the wrapped ``engine.data.transform.vision.functional.to_bgr`` (and
    MegEngine's), this one also takes a 2-D (H, W) image.

    Args:
        image: a gray numpy image of shape (H, W, 1) or (H, W).

    Returns:
        the BGR image, shape (H, W, 3), of ``image``'s dtype.

    Examples:
        >>> from engine.data.transform.functional import to_bgr
        >>> to_bgr(np.array([[[1], [2]]], "uint8"))
        array([[[1, 1, 1],
                [2, 2, 2]]], dtype=uint8)
        >>> to_bgr(np.zeros((2, 3), "float32")).shape
        (2, 3, 3)
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim != 2:
        raise ValueError(f"to_bgr: expected a gray image of shape (H, W, 1), got shape "
                         f"{image.shape}")
    return np.repeat(image[..., None], 3, axis=2)


def _division_table(numerator):
    # OpenCV: table[i] = saturate_cast<int>(numerator / i), table[0] = 0
    i = np.arange(256, dtype=np.float64)
    with np.errstate(divide="ignore"):
        table = np.where(i > 0, np.rint(numerator / np.maximum(i, 1)), 0)
    return table.astype(np.int64)


_SDIV = _division_table(255 << _HSV_SHIFT)
_HDIV_FULL = _division_table((256 << _HSV_SHIFT) / 6.0)


def bgr_to_hsv_full(image):
    """uint8 BGR (H, W, 3) -> uint8 HSV with hue in 0..255 (cv2.COLOR_BGR2HSV_FULL)."""
    image = _check_bgr(image, "bgr_to_hsv_full").astype(np.int64)
    b, g, r = image[..., 0], image[..., 1], image[..., 2]
    v = np.maximum(np.maximum(b, g), r)
    diff = v - np.minimum(np.minimum(b, g), r)
    half = 1 << (_HSV_SHIFT - 1)
    s = (diff * _SDIV[v] + half) >> _HSV_SHIFT
    h = np.where(v == r, g - b, np.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    h = (h * _HDIV_FULL[diff] + half) >> _HSV_SHIFT
    h = np.where(h < 0, h + 256, h)
    return np.stack([np.clip(h, 0, 255), s, v], -1).astype(np.uint8)


# which of (v, v(1-s), v(1-s f), v(1-s(1-f))) is b, g, r in each 60-degree sector
_SECTORS = np.array([[1, 3, 0], [1, 0, 2], [3, 0, 1], [0, 2, 1], [0, 1, 3], [2, 1, 0]])


def hsv_full_to_bgr(image):
    """uint8 HSV with hue in 0..255 -> uint8 BGR (cv2.COLOR_HSV2BGR_FULL)."""
    image = _check_bgr(image, "hsv_full_to_bgr")
    # OpenCV scales the hue back by 6/255, not 6/256 (its forward pass divides by 256)
    h = image[..., 0].astype(np.float32) * np.float32(6.0 / 255)
    s = image[..., 1].astype(np.float32) * np.float32(1.0 / 255)
    v = image[..., 2].astype(np.float32) * np.float32(1.0 / 255)
    sector = np.floor(h)
    f = h - sector
    sector = sector.astype(np.int64) % 6
    one = np.float32(1)
    table = np.stack([v, v * (one - s), v * (one - s * f), v * (one - s * (one - f))], -1)
    bgr = np.take_along_axis(table, _SECTORS[sector], axis=-1)
    bgr = np.where((s == 0)[..., None], v[..., None], bgr)
    return np.clip(np.rint(bgr * np.float32(255)), 0, 255).astype(np.uint8)
