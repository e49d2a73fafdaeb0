"""Image operations on HWC numpy arrays, in numpy only (no OpenCV): resize, flip, pad.

Resize follows cv2.resize: half-pixel centres (src = (dst + 0.5) * in / out - 0.5) with edge
replication for INTER_LINEAR and INTER_CUBIC (a = -0.75), src = floor(dst * in / out) for
INTER_NEAREST, pixel-area averaging for INTER_AREA when shrinking. Integer images are rounded to
the nearest value and saturated, so the output dtype equals the input dtype, as with OpenCV.

uint8 images with INTER_LINEAR take OpenCV's fixed-point path instead (11-bit weights, its
rounding), which gives cv2.resize's bytes exactly; other modes on uint8 are rounded from float
and can differ from OpenCV by 1.

Each resize is separable: per axis we build, for every output position, the input indices and
weights it reads ("taps", shapes (out, k)), then apply the rows pass and the columns pass.
"""
import numpy as np

from ._color import to_bgr, to_gray  # noqa: F401  (MegEngine's F.to_gray / F.to_bgr)

__all__ = [
    "INTER_NEAREST", "INTER_LINEAR", "INTER_CUBIC", "INTER_AREA", "resize", "flip", "pad",
    "to_gray", "to_bgr",
]

# OpenCV's values, so code that passes cv2.INTER_* keeps working without importing cv2.
INTER_NEAREST = 0
INTER_LINEAR = 1
INTER_CUBIC = 2
INTER_AREA = 3

_NAMES = {
    "nearest": INTER_NEAREST, "linear": INTER_LINEAR, "bilinear": INTER_LINEAR,
    "cubic": INTER_CUBIC, "bicubic": INTER_CUBIC, "area": INTER_AREA,
}
_CUBIC_A = -0.75  # OpenCV's (and PyTorch's) bicubic coefficient


def _interpolation_code(interpolation):
    if isinstance(interpolation, str) and interpolation.lower() in _NAMES:
        return _NAMES[interpolation.lower()]
    if isinstance(interpolation, (int, np.integer)) and int(interpolation) in _NAMES.values():
        return int(interpolation)
    raise ValueError(f"resize: unsupported interpolation {interpolation!r}; expected one of "
                     "INTER_NEAREST (0), INTER_LINEAR (1), INTER_CUBIC (2), INTER_AREA (3) or "
                     f"a name in {sorted(_NAMES)}")


def _linear_taps(n_in, n_out):
    scale = n_in / n_out
    src = (np.arange(n_out) + 0.5) * scale - 0.5
    i0 = np.floor(src).astype(np.int64)
    frac = src - i0
    # OpenCV clamps: left of the first centre and right of the last one replicate the edge
    frac[i0 < 0] = 0.0
    i0 = np.clip(i0, 0, n_in - 1)
    frac[i0 >= n_in - 1] = 0.0
    i1 = np.minimum(i0 + 1, n_in - 1)
    return np.stack([i0, i1], 1), np.stack([1.0 - frac, frac], 1)


def _cubic_taps(n_in, n_out):
    scale = n_in / n_out
    src = (np.arange(n_out) + 0.5) * scale - 0.5
    i0 = np.floor(src).astype(np.int64)
    t = src - i0
    a = _CUBIC_A
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    w3 = 1.0 - w0 - w1 - w2
    idx = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
    return idx, np.stack([w0, w1, w2, w3], 1)


def _area_taps(n_in, n_out, shrinking_both=True):
    if not shrinking_both:
        # OpenCV's INTER_AREA unless both axes shrink: linear-like weights that keep pixels crisp
        scale = n_in / n_out
        dst = np.arange(n_out)
        i0 = np.floor(dst * scale).astype(np.int64)
        frac = (dst + 1) - (i0 + 1) / scale
        frac = np.where(frac <= 0, 0.0, frac - np.floor(frac))
        frac[i0 >= n_in - 1] = 0.0
        i0 = np.minimum(i0, n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return np.stack([i0, i1], 1), np.stack([1.0 - frac, frac], 1)
    # shrinking: output pixel d averages the input interval [d * s, (d + 1) * s)
    scale = n_in / n_out
    k = int(np.ceil(scale)) + 1
    start = np.arange(n_out) * scale
    stop = start + scale
    idx = np.floor(start).astype(np.int64)[:, None] + np.arange(k)[None, :]
    overlap = np.minimum(idx + 1, stop[:, None]) - np.maximum(idx, start[:, None])
    weights = np.clip(overlap, 0.0, None) / scale
    return np.minimum(idx, n_in - 1), weights


def _nearest_taps(n_in, n_out):
    # OpenCV's scale is 1 / (out / in), which can differ from in / out in the last bit: with
    # 30 -> 22, row 11 reads 15 (11 * 1.36...38) and not 14 (11 * 1.36...35 = 14.99...)
    idx = np.minimum(np.floor(np.arange(n_out) * (1.0 / (n_out / n_in))).astype(np.int64),
                     n_in - 1)
    return idx[:, None], np.ones((n_out, 1))


_TAPS = {INTER_NEAREST: _nearest_taps, INTER_LINEAR: _linear_taps, INTER_CUBIC: _cubic_taps,
         INTER_AREA: _area_taps}


_COEF_BITS = 11  # OpenCV's INTER_RESIZE_COEF_BITS


def _fixed_linear_taps(n_in, n_out, clamp_weights):
    # OpenCV: f = float((d + 0.5) * scale - 0.5), s = floor(f), weights (1 - f, f) * 2048
    # rounded to short; columns beyond the edges read the edge pixel with weight 1, rows keep
    # their weights and read clamped indices
    f = ((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    f = f - s.astype(np.float32)
    if clamp_weights:
        low, high = s < 0, s >= n_in - 1
        f[low | high] = 0
        s[low], s[high] = 0, n_in - 1
    scale = np.float32(1 << _COEF_BITS)
    w1 = np.rint(f * scale).astype(np.int64)
    w0 = np.rint((np.float32(1) - f) * scale).astype(np.int64)
    return np.clip(s, 0, n_in - 1), np.clip(s + 1, 0, n_in - 1), w0, w1


def _resize_uint8_linear(image, out_h, out_w):
    """cv2.resize(INTER_LINEAR) on uint8, bit-exact: an integer horizontal pass, then OpenCV's
    vectorised vertical pass ((r >> 4) * w >> 16 per row, summed, then (+ 2) >> 2)."""
    in_h, in_w = image.shape[:2]
    x0, x1, a0, a1 = _fixed_linear_taps(in_w, out_w, True)
    y0, y1, b0, b1 = _fixed_linear_taps(in_h, out_h, False)
    src = image.astype(np.int64)
    col = (1, -1) + (1,) * (image.ndim - 2)
    rows = src[:, x0] * a0.reshape(col) + src[:, x1] * a1.reshape(col)  # (H, out_w[, C])
    row = (-1,) + (1,) * (image.ndim - 1)
    out = (((rows[y0] >> 4) * b0.reshape(row) >> 16)
           + ((rows[y1] >> 4) * b1.reshape(row) >> 16) + 2) >> 2
    return np.clip(out, 0, 255).astype(np.uint8)


def _resample_axis(image, axis, taps, dtype):
    idx, weights = taps  # (out, k), (out, k)
    if idx.shape[1] == 1:
        return np.take(image, idx[:, 0], axis=axis)
    out = None
    shape = [1] * image.ndim
    shape[axis] = -1
    for j in range(idx.shape[1]):
        term = np.take(image, idx[:, j], axis=axis) * weights[:, j].astype(dtype).reshape(shape)
        out = term if out is None else out + term
    return out


def resize(image, size, interpolation=INTER_LINEAR):
    """Resizes an (H, W) or (H, W, C) image, as cv2.resize does.

    Args:
        image: a numpy image.
        size: (height, width) of the result.
        interpolation: INTER_LINEAR (the default), INTER_NEAREST, INTER_CUBIC, INTER_AREA, or
            "bilinear", "nearest", "bicubic", "area".

    Returns:
        the resized image, of ``image``'s dtype (integers rounded and saturated).

    Examples:
        >>> VF = mge.data.transform.functional
        >>> image = np.array([[0, 100], [200, 255]], dtype=np.uint8)
        >>> VF.resize(image, (4, 4), VF.INTER_NEAREST)
        array([[  0,   0, 100, 100],
               [  0,   0, 100, 100],
               [200, 200, 255, 255],
               [200, 200, 255, 255]], dtype=uint8)
        >>> VF.resize(image, (1, 1), VF.INTER_AREA)
        array([[139]], dtype=uint8)
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"resize: expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    if image.dtype == np.bool_ or image.dtype.kind not in "uif":
        raise TypeError(f"resize: expected a numeric image, got dtype {image.dtype}")
    try:
        out_h, out_w = (int(s) for s in size)
    except (TypeError, ValueError):
        raise TypeError(f"resize: size must be (height, width), got {size!r}") from None
    if out_h <= 0 or out_w <= 0 or min(image.shape[:2]) == 0:
        raise ValueError(f"resize: cannot resize an image of shape {image.shape} to "
                         f"({out_h}, {out_w}); sizes must be positive")
    code = _interpolation_code(interpolation)
    in_h, in_w = image.shape[:2]
    if (in_h, in_w) == (out_h, out_w):
        return image.copy()
    if code == INTER_LINEAR and image.dtype == np.uint8:
        return _resize_uint8_linear(image, out_h, out_w)
    compute = np.float64 if image.dtype == np.float64 else np.float32
    work = image if code == INTER_NEAREST else image.astype(compute)
    if code == INTER_AREA:
        shrinking = out_h <= in_h and out_w <= in_w
        rows, cols = _area_taps(in_h, out_h, shrinking), _area_taps(in_w, out_w, shrinking)
    else:
        rows, cols = _TAPS[code](in_h, out_h), _TAPS[code](in_w, out_w)
    work = _resample_axis(work, 0, rows, compute)  # (out_h, W[, C])
    work = _resample_axis(work, 1, cols, compute)  # (out_h, out_w[, C])
    if work.dtype == image.dtype:
        return np.ascontiguousarray(work)
    if image.dtype.kind in "ui":
        info = np.iinfo(image.dtype)
        work = np.clip(np.rint(work), info.min, info.max)
    return work.astype(image.dtype)


def flip(image, horizontal=True):
    """Mirrors an HWC image left-right (horizontal) or top-bottom.

    Args:
        image: a numpy image.
        horizontal: True for left-right, False for top-bottom (MegEngine's cv2 flipCode 1
            and 0 mean the same).

    Returns:
        a contiguous copy.

    Examples:
        >>> VF = mge.data.transform.functional
        >>> VF.flip(np.array([[[1], [2], [3]]]), True)[..., 0]
        array([[3, 2, 1]])
        >>> VF.flip(np.array([[[1]], [[2]]]), False)[..., 0]
        array([[2],
               [1]])
    """
    image = np.asarray(image)
    if image.ndim < 2:
        raise ValueError(f"flip: expected an (H, W[, C]) image, got shape {image.shape}")
    return np.ascontiguousarray(image[:, ::-1] if horizontal else image[::-1])


def pad(image, size, value=0):
    """Pads an (H, W[, C]) image with a constant.

    Args:
        image: a numpy image.
        size: (top, bottom, left, right).
        value: the fill value; a float value makes the result float32, as MegEngine.

    Returns:
        the padded image.

    Examples:
        >>> VF = mge.data.transform.functional
        >>> VF.pad(np.ones((1, 2, 1), dtype=np.uint8), (1, 0, 0, 1), 0)[..., 0]
        array([[0, 0, 0],
               [1, 1, 0]], dtype=uint8)
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"pad: expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    top, bottom, left, right = (int(s) for s in size)
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"pad: pad sizes must be non-negative, got {tuple(size)}")
    values = np.atleast_1d(np.asarray(value))
    dtype = np.float32 if values.dtype.kind == "f" and image.dtype.kind != "f" else image.dtype
    channels = image.shape[2] if image.ndim == 3 else 1
    if values.size > channels and values.size in (3, 4):
        values = values[:channels]  # cv2's Scalar: [0, 0, 0] pads a gray image with 0
    if values.size not in (1, channels):
        raise ValueError(f"pad: value must be a scalar or have {channels} entries (one per "
                         f"channel), got {value!r}")
    h, w = image.shape[:2]
    out = np.empty((h + top + bottom, w + left + right) + image.shape[2:], dtype=dtype)
    out[...] = values.astype(dtype) if image.ndim == 3 else values[0]
    out[top:top + h, left:left + w] = image
    return out
