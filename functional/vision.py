"""Vision functions (F.vision): resizing, box IoU, NMS, ROIAlign and ROI pooling, with
MegEngine's names, arguments and semantics (DESIGN §3). Boxes are x1, y1, x2, y2; rois are
(K, 5) = [batch_index, x1, y1, x2, y2]; feature maps are NCHW."""
import math

import numpy as np

from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import indexing as I
from engine.ops import interpolate as IP
from engine.ops import shape as S
from engine.ops import vision as V

from ._utils import ArgumentError, as_tensor, check_float, keeps_format
from .tensor import broadcast_to

__all__ = [
    "interpolate", "nms", "batched_nms", "roi_align", "roi_pooling", "box_iou",
    "generalized_box_iou", "giou",
]

_INTERP_MODES = ("nearest", "bilinear")


def _pair(v, fn, name, cast=int):
    """An int / float or a pair of them, as a checked tuple of two."""
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ValueError(f"{fn}: {name} must be a number or a pair, got {v!r}")
        a, b = v
    else:
        a = b = v
    try:
        return cast(a), cast(b)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: {name} must be a number or a pair of numbers, got {v!r}") from None


def _float_tensor(x, fn, name):
    x = as_tensor(x, fn)
    if not _dt.is_float(x.dtype):
        raise TypeError(f"{fn}: {name} must be floating point, got {x.dtype}")
    return x


@keeps_format
def interpolate(inp, size=None, scale_factor=None, mode="bilinear", align_corners=None):
    """Resize an NCHW tensor to `size` (int or (h, w)) or by `scale_factor` (number or pair).

    Modes "nearest" and "bilinear" (case-insensitive), "linear" for (N, C, W) input (a
    single size or factor; resized as an (N, C, W, 1) image, as MegEngine) and "trilinear" for
    (N, C, D, H, W) input (size and scale_factor a number or a triple); align_corners (the
    linear modes only, default False) as PyTorch: True maps the corner pixels' centres onto
    each other, False uses half-pixel centres. With scale_factor the output is
    floor(in * scale_factor) and source coordinates use 1 / scale_factor, as
    torch.nn.functional.interpolate does.
    """
    fn = "interpolate"
    inp = as_tensor(inp, fn)
    check_float(inp, fn)
    if isinstance(mode, str):
        mode = mode.lower()  # MegEngine accepts "BILINEAR"
    if mode == "linear":
        if inp.ndim != 3:
            raise ArgumentError(f"{fn}: mode 'linear' needs a 3-D (N, C, W) input, got shape "
                                f"{inp.shape}")
        if isinstance(size, (list, tuple)) or isinstance(scale_factor, (list, tuple)):
            raise ValueError(f"{fn}: under mode 'linear', size and scale_factor must be single "
                             "values")
        out = interpolate(inp.reshape(inp.shape + (1,)),
                          None if size is None else (size, 1),
                          None if scale_factor is None else (scale_factor, 1.0),
                          "bilinear", align_corners)
        return out.reshape(out.shape[:3])
    if mode == "trilinear":
        return _trilinear(inp, size, scale_factor, align_corners, fn)
    if mode not in _INTERP_MODES:
        raise ValueError(f"{fn}: mode must be one of {_INTERP_MODES + ('linear', 'trilinear')}, "
                         f"got {mode!r}")
    if inp.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D NCHW input, got shape {inp.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{fn}: give exactly one of size and scale_factor, got "
                         f"{'both' if size is not None else 'neither'}")
    if mode == "nearest" and align_corners:
        raise ValueError(f"{fn}: align_corners can only be set with mode 'bilinear'")
    align = bool(align_corners) and mode == "bilinear"
    in_h, in_w = inp.shape[2:]
    if size is not None:
        out_h, out_w = _pair(size, fn, "size")
        scales = (in_h / out_h if out_h > 0 else 0.0, in_w / out_w if out_w > 0 else 0.0)
    else:
        sh, sw = _pair(scale_factor, fn, "scale_factor", float)
        if not (sh > 0 and sw > 0 and math.isfinite(sh) and math.isfinite(sw)):
            raise ValueError(f"{fn}: scale_factor must be positive, got {scale_factor!r}")
        out_h, out_w = int(math.floor(in_h * sh)), int(math.floor(in_w * sw))
        scales = (1.0 / sh, 1.0 / sw)
    if out_h <= 0 or out_w <= 0 or in_h == 0 or in_w == 0:
        raise ValueError(f"{fn}: cannot resize input of shape {inp.shape} to ({out_h}, {out_w})")
    if align:
        scales = ((in_h - 1) / (out_h - 1) if out_h > 1 else 0.0,
                  (in_w - 1) / (out_w - 1) if out_w > 1 else 0.0)
    return IP.Interpolate.apply(inp, size=(out_h, out_w), scale_h=scales[0], scale_w=scales[1],
                                mode=mode, align_corners=align)


def _trilinear(inp, size, scale_factor, align_corners, fn):
    """Trilinear resizing of (N, C, D, H, W) as it separates: bilinear over (H, W) of every depth
    slice, then linear along D (each axis with the 1-D rule of the bilinear mode)."""
    if inp.ndim != 5:
        raise ArgumentError(f"{fn}: mode 'trilinear' needs a 5-D (N, C, D, H, W) input, got "
                            f"shape {inp.shape}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{fn}: give exactly one of size and scale_factor, got "
                         f"{'both' if size is not None else 'neither'}")

    def triple(v, name, cast):
        v = tuple(v) if isinstance(v, (list, tuple)) else (v, v, v)
        if len(v) != 3:
            raise ValueError(f"{fn}: {name} must be a number or a triple under mode "
                             f"'trilinear', got {v!r}")
        return tuple(cast(a) for a in v)

    n, c, d, h, w = inp.shape
    sizes = triple(size, "size", int) if size is not None else None
    factors = triple(scale_factor, "scale_factor", float) if scale_factor is not None else None
    plane = interpolate(inp.reshape(n, c * d, h, w),
                        None if sizes is None else sizes[1:],
                        None if factors is None else factors[1:], "bilinear", align_corners)
    oh, ow = plane.shape[2:]
    # (N, C, D, oh, ow) -> depth last, as 'linear' resizes the last axis
    cols = plane.reshape(n, c, d, oh * ow).transpose(0, 1, 3, 2).reshape(n, c * oh * ow, d)
    cols = interpolate(cols, None if sizes is None else sizes[0],
                       None if factors is None else factors[0], "linear", align_corners)
    od = cols.shape[2]
    return cols.reshape(n, c, oh * ow, od).transpose(0, 1, 3, 2).reshape(n, c, od, oh, ow)


def _boxes(x, fn, name, n=None):
    x = _float_tensor(x, fn, name)
    if x.ndim != 2 or x.shape[1] != 4 or (n is not None and x.shape[0] != n):
        want = "(N, 4)" if n is None else f"({n}, 4)"
        raise ValueError(f"{fn}: {name} must have shape {want}, got {x.shape}")
    return x


def _max_output(max_output, fn):
    if max_output is None:
        return -1
    if isinstance(max_output, bool) or not isinstance(max_output, (int, np.integer)) \
            or max_output < 0:
        raise ValueError(f"{fn}: max_output must be a non-negative int or None, "
                         f"got {max_output!r}")
    return int(max_output)


def _scores(scores, boxes, fn):
    scores = _float_tensor(scores, fn, "scores")
    if scores.shape != (boxes.shape[0],):
        raise ValueError(f"{fn}: scores must have shape ({boxes.shape[0]},) for boxes of shape "
                         f"{boxes.shape}, got {scores.shape}")
    return scores


def nms(boxes, scores, iou_thresh, max_output=None):
    """Greedy non-maximum suppression of (N, 4) boxes: int32 indices of the kept boxes by
    descending score (ties: lower index first). A box is dropped when its IoU with a kept box
    is greater than iou_thresh; at most max_output indices are returned."""
    boxes = _boxes(boxes, "nms", "boxes")
    scores = _scores(scores, boxes, "nms")
    return V.Nms.apply(boxes, scores, iou_thresh=float(iou_thresh),
                       max_output=_max_output(max_output, "nms"))


def batched_nms(boxes, scores, idxs, iou_thresh, max_output=None):
    """NMS within each class `idxs` (N,) separately: int32 indices into boxes, by descending
    score over all classes."""
    fn = "batched_nms"
    boxes = _boxes(boxes, fn, "boxes")
    scores = _scores(scores, boxes, fn)
    idxs = as_tensor(idxs, fn, like=boxes)
    if idxs.dtype.kind not in "iu" or idxs.shape != (boxes.shape[0],):
        raise ValueError(f"{fn}: idxs must be an integer tensor of shape ({boxes.shape[0]},), "
                         f"got {idxs.dtype} {idxs.shape}")
    return V.Nms.apply(boxes, scores, idxs, iou_thresh=float(iou_thresh),
                       max_output=_max_output(max_output, fn))


def _rois(inp, rois, fn):
    inp = _float_tensor(inp, fn, "inp")
    if inp.ndim != 4:
        raise ValueError(f"{fn}: inp must be NCHW (4-D), got shape {inp.shape}")
    rois = _float_tensor(rois, fn, "rois")
    if rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError(f"{fn}: rois must have shape (K, 5) = [batch_index, x1, y1, x2, y2], "
                         f"got {rois.shape}")
    # MegEngine truncates a fractional batch index (1.7 -> image 1).
    batch = E.Trunc.apply(I.GetItem.apply(rois, index=(slice(None), slice(0, 1))))
    rois = S.Concat.apply(batch, I.GetItem.apply(rois, index=(slice(None), slice(1, 5))), axis=1)
    return inp, rois


def _positive_pair(v, fn, name):
    p = _pair(v, fn, name)
    if min(p) <= 0:
        raise ValueError(f"{fn}: {name} must be positive, got {v!r}")
    return p


def roi_align(inp, rois, output_shape, mode="average", spatial_scale=1.0, sample_points=2,
              aligned=True):
    """ROIAlign (MegEngine semantics): (N, C, H, W), (K, 5) -> (K, C, PH, PW).

    Each bin averages (mode "average") or takes the max (mode "max") of a sample_points grid of
    bilinear samples; aligned=True shifts the scaled roi by half a pixel. Corners of a sample
    that fall outside the map count as 0.
    """
    fn = "roi_align"
    inp, rois = _rois(inp, rois, fn)
    if mode not in ("average", "max"):
        raise ValueError(f"{fn}: mode must be 'average' or 'max', got {mode!r}")
    out, _ = V.RoiAlign.apply(inp, rois, output_shape=_positive_pair(output_shape, fn,
                                                                     "output_shape"),
                              mode=mode, spatial_scale=float(spatial_scale),
                              sample_points=_positive_pair(sample_points, fn, "sample_points"),
                              aligned=bool(aligned))
    return out


def roi_pooling(inp, rois, output_shape, mode="max", scale=1.0):
    """ROI pooling (MegEngine / Caffe semantics): (N, C, H, W), (K, 5) -> (K, C, PH, PW); roi
    corners are scaled by `scale` and rounded to cells, each bin is max- or average-pooled."""
    fn = "roi_pooling"
    inp, rois = _rois(inp, rois, fn)
    if mode not in ("max", "average"):
        raise ValueError(f"{fn}: mode must be 'max' or 'average', got {mode!r}")
    out, _ = V.RoiPooling.apply(inp, rois,
                                output_shape=_positive_pair(output_shape, fn, "output_shape"),
                                mode=mode, scale=float(scale))
    return out


def box_iou(boxes1, boxes2):
    """Pairwise IoU of (N, 4) and (M, 4) boxes -> (N, M); differentiable."""
    return V.BoxIou.apply(_boxes(boxes1, "box_iou", "boxes1"),
                          _boxes(boxes2, "box_iou", "boxes2"))


def giou(boxes1, boxes2):
    """Generalized IoU of matching boxes: (..., 4) and (..., 4) of one shape -> (...);
    differentiable (the GIoU loss is 1 - giou)."""
    fn = "giou"
    a = _float_tensor(boxes1, fn, "boxes1")
    b = _float_tensor(boxes2, fn, "boxes2")
    if a.shape != b.shape or a.ndim == 0 or a.shape[-1] != 4:
        raise ValueError(f"{fn}: boxes1 {a.shape} and boxes2 {b.shape} must have one shape "
                         f"(..., 4)")
    lead = a.shape[:-1]
    out = V.PairedIou.apply(a.reshape(-1, 4), b.reshape(-1, 4), generalized=True)
    return out.reshape(lead)


def generalized_box_iou(boxes1, boxes2):
    """Pairwise generalized IoU of (N, 4) and (M, 4) boxes -> (N, M), as torchvision's;
    differentiable."""
    fn = "generalized_box_iou"
    a = _boxes(boxes1, fn, "boxes1")
    b = _boxes(boxes2, fn, "boxes2")
    n, m = a.shape[0], b.shape[0]
    a = broadcast_to(a.reshape(n, 1, 4), (n, m, 4)).reshape(n * m, 4)
    b = broadcast_to(b.reshape(1, m, 4), (n, m, 4)).reshape(n * m, 4)
    return V.PairedIou.apply(a, b, generalized=True).reshape(n, m)


# warp_perspective, warp_affine, remap, correlation, deformable_psroi_pooling, cvt_color
from .vision_extra import *  # noqa: E402,F401,F403
from .vision_extra import __all__ as _extra_all  # noqa: E402

__all__ += _extra_all
