"""megengine.data.transform.vision.functional: image helpers with MegEngine's signatures, on HWC
numpy images (computed in numpy, as OpenCV computes them; see ..functional). Like MegEngine's,
each keeps an (H, W, C) image three-dimensional: a one-channel result stays (H, W, 1)."""
import collections.abc
import functools

import numpy as np

from .. import _color
from .. import functional as _F

__all__ = ["to_gray", "to_bgr", "pad", "flip", "resize", "wrap_keepdims"]


def wrap_keepdims(func):
    """Decorates an image function so that it requires an (H, W, C) image and gives a 2-D
    (H, W) result back as (H, W, 1), keeping the channel axis (as MegEngine's).

    Args:
        func: a function whose first argument is a numpy image.

    Returns:
        the wrapped function; it raises ValueError, naming ``func``, for an image without 3
        dims.

    Examples:
        >>> from engine.data.transform.vision.functional import wrap_keepdims
        >>> @wrap_keepdims
        ... def mean_channel(image):
        ...     return image.mean(axis=2)
        >>> mean_channel(np.ones((2, 3, 4))).shape
        (2, 3, 1)
        >>> mean_channel(np.ones((2, 3)))
        Traceback (most recent call last):
            ...
        ValueError: mean_channel: image must have 3 dims (H, W, C), but got 2 dims (shape (2, 3))
    """

    @functools.wraps(func)
    def wrapper(image, *args, **kwargs):
        if len(image.shape) != 3:
            raise ValueError(f"{func.__name__}: image must have 3 dims (H, W, C), but got "
                             f"{len(image.shape)} dims (shape {tuple(image.shape)})")
        out = func(image, *args, **kwargs)
        return out[:, :, np.newaxis] if out.ndim == 2 else out

    return wrapper


@wrap_keepdims
def to_gray(image):
    """BGR (H, W, 3) -> gray (H, W, 1), as cv2.COLOR_BGR2GRAY.

    Args:
        image: a BGR image of shape (H, W, 3).

    Returns:
        the gray image, shape (H, W, 1), same dtype.

    Examples:
        >>> import numpy as np
        >>> from engine.data.transform.vision import functional as F
        >>> F.to_gray(np.array([[[255, 0, 0], [0, 0, 255]]], np.uint8))[..., 0]
        array([[29, 76]], dtype=uint8)
    """
    return _color.to_gray(image)


@wrap_keepdims
def to_bgr(image):
    """Gray (H, W, 1) -> BGR (H, W, 3), as cv2.COLOR_GRAY2BGR.

    Args:
        image: a gray image of shape (H, W, 1).

    Returns:
        the BGR image, shape (H, W, 3).

    Examples:
        >>> import numpy as np
        >>> from engine.data.transform.vision import functional as F
        >>> F.to_bgr(np.full((1, 1, 1), 7, np.uint8)).tolist()
        [[[7, 7, 7]]]
    """
    return _color.to_bgr(image)


@wrap_keepdims
def pad(input, size, value):
    """Pad with a constant, as cv2.copyMakeBorder(BORDER_CONSTANT).

    Args:
        input: an (H, W, C) image.
        size: an int (all four sides), (bottom, right), or (top, bottom, left, right).
        value: the padding value, a scalar or one per channel; a float value makes the result
            float32.

    Returns:
        the padded image.

    Examples:
        >>> import numpy as np
        >>> from engine.data.transform.vision import functional as F
        >>> F.pad(np.ones((2, 2, 1), np.uint8), (1, 2), 0).shape
        (3, 4, 1)
    """
    if isinstance(size, int):
        size = (size,) * 4
    elif isinstance(size, collections.abc.Sequence) and len(size) == 2:
        size = (0, size[0], 0, size[1])
    return _F.pad(input, size, value)


@wrap_keepdims
def flip(image, flipCode):
    """Mirror an image, as cv2.flip: flipCode 0 flips top-bottom, > 0 left-right, < 0 both.

    Args:
        image: an (H, W, C) image.
        flipCode: the cv2 flip code.

    Returns:
        the flipped image (a copy).

    Examples:
        >>> import numpy as np
        >>> from engine.data.transform.vision import functional as F
        >>> F.flip(np.arange(3).reshape(1, 3, 1), 1)[0, :, 0]
        array([2, 1, 0])
    """
    if flipCode == 0:
        return _F.flip(image, horizontal=False)
    if flipCode > 0:
        return _F.flip(image, horizontal=True)
    return np.ascontiguousarray(np.asarray(image)[::-1, ::-1])


@wrap_keepdims
def resize(input, size, interpolation=_F.INTER_LINEAR):
    """Resize to size = (height, width), as cv2.resize (uint8 INTER_LINEAR bit-exact).

    Args:
        input: an (H, W, C) image.
        size: (height, width) of the result.
        interpolation: INTER_LINEAR (default), INTER_NEAREST, INTER_CUBIC or INTER_AREA.

    Returns:
        the resized image, same dtype.

    Examples:
        >>> import numpy as np
        >>> from engine.data.transform.vision import functional as F
        >>> F.resize(np.zeros((4, 6, 3), np.uint8), (2, 3)).shape
        (2, 3, 3)
    """
    return _F.resize(input, size, interpolation)
