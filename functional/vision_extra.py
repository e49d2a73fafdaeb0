"""The vision functions beyond resizing and detection (F.vision.*, re-exported by vision.py):
warp_perspective, warp_affine, remap, correlation, deformable_psroi_pooling and cvt_color, with
MegEngine's names, arguments and semantics, on our native kernels."""
import numpy as np

from engine.ops import correlation as CR
from engine.ops import cvt_color as CC
from engine.ops import deformable_psroi as DP
from engine.ops import warp as W
from engine.tensor import Tensor

from ._utils import as_tensor, computes_in_float32
from .elemwise import clip, round
from .tensor import broadcast_to, concat
from .vision import _float_tensor, _positive_pair

__all__ = ["warp_perspective", "warp_affine", "remap", "correlation", "cvt_color",
           "deformable_psroi_pooling"]


# ------------------------------------------------------------------ warping and remapping

_WARP_BORDERS = tuple(W.BORDERS)


def _border(border_mode, fn):
    mode = str(border_mode).lower()
    if mode not in W.BORDERS:
        raise ValueError(f"{fn}: border_mode must be one of {_WARP_BORDERS}, got "
                         f"{border_mode!r}")
    return W.BORDERS[mode]


def _interp(interp_mode, fn, allowed):
    mode = str(interp_mode).lower()
    if mode not in allowed:
        raise ValueError(f"{fn}: interp_mode must be one of {allowed}, got {interp_mode!r}")
    return mode


def _image(inp, fn, name="inp"):
    inp = _float_tensor(inp, fn, name)
    if inp.ndim != 4:
        raise ValueError(f"{fn}: {name} must be a 4-D batch of images, got shape {inp.shape}")
    return inp.astype("float32") if inp.dtype == np.float16 else inp


# Integer images warp as MegEngine's (megdnn's RoundingConverter): computed in float32, then
# rounded half away from zero, uint8 clamped to [0, 255] first.
_INT_IMAGES = {np.dtype(np.uint8): (0, 255), np.dtype(np.int8): (-128, 127)}


def _sampling_image(inp, fn):
    """warp / remap input: a float image, or a uint8 / int8 one (returned as float32 with the
    dtype to convert the result back to)."""
    inp = as_tensor(inp, fn)
    if inp.dtype in _INT_IMAGES:
        if inp.ndim != 4:
            raise ValueError(f"{fn}: inp must be a 4-D batch of images, got shape {inp.shape}")
        return inp.astype("float32"), inp.dtype
    return _image(inp, fn), None


def _back_to(out, dtype):
    if dtype is None:
        return out
    lo, hi = _INT_IMAGES[dtype]
    return round(clip(out, lo, hi)).astype(dtype)


def _as_dtype(x, dtype):
    """x in dtype, without the copy a same-dtype cast would make."""
    return x if x.dtype == dtype else x.astype(dtype)


def _out_hw(out_shape, fn):
    if hasattr(out_shape, "numpy"):
        out_shape = [int(v) for v in out_shape.numpy().reshape(-1)]
    return _positive_pair(out_shape, fn, "out_shape")


def _warp(inp, mat3, out_shape, mat_idx, border_mode, border_val, format, fn):
    """warp_perspective / warp_affine: NCHW or NHWC images, (N, 3, 3) float matrices."""
    fmt = str(format).upper()
    if fmt not in ("NCHW", "NHWC"):
        raise ValueError(f"{fn}: format must be 'NCHW' or 'NHWC', got {format!r}")
    if fmt == "NHWC":
        inp = inp.transpose(0, 3, 1, 2)
    args = [inp, mat3]
    if mat_idx is not None:
        idx = as_tensor(mat_idx, fn, like=inp)
        if idx.dtype.kind not in "iu" or idx.ndim != 1 or idx.shape[0] != mat3.shape[0]:
            raise ValueError(f"{fn}: mat_idx must be {mat3.shape[0]} integers (one per matrix), "
                             f"got {idx.dtype} {idx.shape}")
        if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= inp.shape[0]):
            raise ValueError(f"{fn}: mat_idx values must be in [0, {inp.shape[0]}) (the input "
                             f"batch), got range [{int(idx.min())}, {int(idx.max())}]")
        args.append(idx.astype("int32"))
    elif mat3.shape[0] != inp.shape[0]:
        raise ValueError(f"{fn}: mat {mat3.shape} needs one matrix per input image "
                         f"({inp.shape[0]}) unless mat_idx is given")
    out = W.WarpPerspective.apply(*args, out_shape=_out_hw(out_shape, fn),
                                  border=_border(border_mode, fn), border_val=float(border_val))
    return out.transpose(0, 2, 3, 1) if fmt == "NHWC" else out


def _matrices(mat, rows, fn, like):
    mat = _float_tensor(as_tensor(mat, fn, like=like), fn, "mat")
    if mat.ndim != 3 or mat.shape[1:] != (rows, 3):
        raise ValueError(f"{fn}: mat must have shape (N, {rows}, 3), got {mat.shape}")
    return _as_dtype(mat, like.dtype)


@computes_in_float32
def warp_perspective(inp, mat, out_shape, mat_idx=None, border_mode="replicate",
                     border_val=0.0, format="NCHW", interp_mode="linear"):
    r"""Applies perspective transformation to batched 2D images.

    Output pixel (h, w) of image n reads the input at
    ``x = (M00 w + M01 h + M02) / d``, ``y = (M10 w + M11 h + M12) / d`` with
    ``d = M20 w + M21 h + M22`` (the inverse of the matrix ``cv2.warpPerspective`` takes), by
    bilinear interpolation; each tap outside the image is mapped back by ``border_mode``.

    Args:
        inp: input images, ``(N, C, H, W)`` (or ``(N, H, W, C)`` with format "NHWC"); float,
            or uint8 / int8 (sampled in float32 and rounded back, as MegEngine does).
        mat: ``(batch, 3, 3)`` transformation matrices.
        out_shape: ``(h, w)`` size of the output image.
        mat_idx: image batch index assigned to each matrix (then ``batch`` may differ from N).
            Default: None (matrix i warps image i).
        border_mode: "replicate" (default), "reflect", "reflect_101", "wrap" or "constant".
        border_val: value of the taps outside the image in "constant" mode. Default: 0
        format: "NCHW" (default) or "NHWC".
        interp_mode: interpolation method; only "linear", as in MegEngine.

    Returns:
        output tensor ``(batch, C, h, w)`` (NHWC: ``(batch, h, w, C)``), differentiable with
        respect to ``inp`` and ``mat``.

    Note:
        MegEngine's x86 NHWC path interpolates in fixed point (1/32 pixel steps); engine
        computes exact bilinear weights in both formats, as MegEngine's NCHW path does.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> M = Tensor(np.array([[1., 0., 1.],
        ...                      [0., 1., 1.],
        ...                      [0., 0., 1.]], dtype=np.float32).reshape(1, 3, 3))
        >>> out = F.vision.warp_perspective(x, M, (2, 2))
        >>> out.numpy()
        array([[[[ 5.,  6.],
                 [ 9., 10.]]]], dtype=float32)
    """
    fn = "warp_perspective"
    inp, int_dtype = _sampling_image(inp, fn)
    _interp(interp_mode, fn, ("linear",))
    mat = _matrices(mat, 3, fn, inp)
    return _back_to(_warp(inp, mat, out_shape, mat_idx, border_mode, border_val, format, fn),
                    int_dtype)


@computes_in_float32
def warp_affine(inp, mat, out_shape, border_mode="replicate", border_val=0.0, format="NHWC",
                interp_mode="linear"):
    r"""Batched affine transformation of 2D images: output pixel (h, w) reads the input at
    ``x = M00 w + M01 h + M02``, ``y = M10 w + M11 h + M12`` (bilinear, taps outside mapped
    back by ``border_mode``).

    Args:
        inp: input images, ``(N, H, W, C)`` by default (format "NHWC") or ``(N, C, H, W)``;
            float, or uint8 / int8 (sampled in float32 and rounded back).
        mat: ``(N, 2, 3)`` transformation matrices.
        out_shape: ``(h, w)`` size of the output image.
        border_mode: "replicate" (default), "reflect", "reflect_101", "wrap" or "constant"
            ("isolated" and "transparent", which MegEngine lists for some platforms, are not
            implemented and raise ValueError).
        border_val: value used in "constant" mode. Default: 0
        format: "NHWC" (default, for historical reasons as in MegEngine) or "NCHW".
        interp_mode: only "linear" is implemented.

    Returns:
        output tensor in ``format``; differentiable with respect to ``inp`` and ``mat`` (it is
        a perspective warp whose last matrix row is 0 0 1).

    Note:
        MegEngine's x86 NHWC path interpolates in fixed point (1/32 pixel steps); engine
        computes exact bilinear weights, as MegEngine's NCHW path does.

    Examples:
        >>> import numpy as np
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1))
        >>> M = Tensor(np.array([[[1., 0., 1.], [0., 1., 1.]]], dtype=np.float32))
        >>> F.vision.warp_affine(x, M, (2, 2)).numpy().squeeze()
        array([[ 5.,  6.],
               [ 9., 10.]], dtype=float32)
    """
    fn = "warp_affine"
    inp, int_dtype = _sampling_image(inp, fn)
    _interp(interp_mode, fn, ("linear",))
    mat = _matrices(mat, 2, fn, inp)
    last = broadcast_to(Tensor(np.array([[[0.0, 0.0, 1.0]]], inp.dtype), device=inp.device),
                        (mat.shape[0], 1, 3))
    return _back_to(_warp(inp, concat([mat, last], axis=1), out_shape, None, border_mode,
                          border_val, format, fn), int_dtype)


@computes_in_float32
def remap(inp, map_xy, border_mode="replicate", scalar=0.0, interp_mode="linear"):
    r"""Applies remap transformation to batched 2D images: output pixel (h, w) of image n reads
    the input at ``(x, y) = map_xy[n, h, w]`` (x the column, y the row).

    Args:
        inp: input images ``(N, C, H, W)``; float, or uint8 / int8 (rounded back).
        map_xy: ``(N, OH, OW, 2)`` source coordinates; the output is ``(N, C, OH, OW)``.
        border_mode: "replicate" (default), "reflect", "reflect_101", "wrap" or "constant".
        scalar: value used in "constant" mode. Default: 0
        interp_mode: "linear" (default) or "nearest" (coordinates rounded half to even).

    Returns:
        output tensor ``(N, C, OH, OW)``, differentiable with respect to ``inp`` and
        ``map_xy`` (the map gradient is 0 in "nearest" mode).

    Examples:
        >>> import numpy as np
        >>> inp = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> map_xy = Tensor(np.array([[[1., 0.], [0., 1.]],
        ...                           [[0., 1.], [0., 1.]]], dtype=np.float32).reshape(1, 2, 2, 2))
        >>> F.vision.remap(inp, map_xy).numpy()
        array([[[[1., 4.],
                 [4., 4.]]]], dtype=float32)
    """
    fn = "remap"
    inp, int_dtype = _sampling_image(inp, fn)
    map_xy = _float_tensor(as_tensor(map_xy, fn, like=inp), fn, "map_xy")
    if map_xy.ndim != 4 or map_xy.shape[3] != 2 or map_xy.shape[0] != inp.shape[0]:
        raise ValueError(f"{fn}: map_xy must have shape ({inp.shape[0]}, OH, OW, 2) for inp "
                         f"{inp.shape}, got {map_xy.shape}")
    nearest = _interp(interp_mode, fn, ("linear", "nearest")) == "nearest"
    out = W.Remap.apply(inp, _as_dtype(map_xy, inp.dtype), border=_border(border_mode, fn),
                        border_val=float(scalar), nearest=nearest)
    return _back_to(out, int_dtype)


# ------------------------------------------------------------------ correlation, deformable psroi

def _nonneg_int(v, fn, name, positive=False):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (1 if positive else 0):
        raise ValueError(f"{fn}: {name} must be a {'positive' if positive else 'non-negative'} "
                         f"int, got {v!r}")
    return int(v)


@computes_in_float32
def correlation(data1, data2, kernel_size=1, max_displacement=1, stride1=1, stride2=1,
                pad_size=0, is_multiply=True):
    r"""Applies correlation to inputs (FlowNet's correlation layer).

    Output channel ``(p + r) * (2r + 1) + (o + r)``, ``r = max_displacement // stride2``,
    compares the ``kernel_size x kernel_size x C`` patch of ``data1`` centred at
    ``(y, x) * stride1 + kernel_size // 2 + max_displacement - pad_size`` with the patch of
    ``data2`` displaced by ``(p, o) * stride2``; samples outside the maps read 0.

    Args:
        data1: input data1 to the correlation, format must be NCHW.
        data2: input data2 to the correlation, NCHW of the same shape.
        kernel_size: odd patch size. Default: 1
        max_displacement: max displacement of the correlation. Default: 1
        stride1: stride over data1. Default: 1
        stride2: stride of the displacements within the neighbourhood. Default: 1
        pad_size: zero padding of both inputs. Default: 0
        is_multiply: True: mean of products; False: mean of absolute differences.

    Returns:
        ``(N, (2r + 1)^2, OH, OW)``, differentiable with respect to both inputs (the exact
        derivative of this forward; MegEngine 1.13's CPU gradient for ``data1`` swaps the
        displacement axes and disagrees with finite differences of its own forward).

    Examples:
        >>> import numpy as np
        >>> a = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.vision.correlation(a, a, max_displacement=1).shape
        (1, 9, 2, 2)
    """
    fn = "correlation"
    data1 = _image(data1, fn, "data1")
    data2 = _image(as_tensor(data2, fn, like=data1), fn, "data2")
    if data1.shape != data2.shape:
        raise ValueError(f"{fn}: data1 {data1.shape} and data2 {data2.shape} must have one shape")
    k = _nonneg_int(kernel_size, fn, "kernel_size", positive=True)
    if k % 2 == 0:
        raise ValueError(f"{fn}: kernel_size must be odd, got {k}")
    attrs = dict(kernel_size=k,
                 max_displacement=_nonneg_int(max_displacement, fn, "max_displacement"),
                 stride1=_nonneg_int(stride1, fn, "stride1", positive=True),
                 stride2=_nonneg_int(stride2, fn, "stride2", positive=True),
                 pad_size=_nonneg_int(pad_size, fn, "pad_size"), is_multiply=bool(is_multiply))
    border = attrs["max_displacement"] + k // 2
    for size in data1.shape[2:]:
        if size + 2 * attrs["pad_size"] - 2 * border <= 0:
            raise ValueError(f"{fn}: input {data1.shape[2:]} with pad_size {attrs['pad_size']} "
                             f"is too small for kernel_size {k} and max_displacement "
                             f"{attrs['max_displacement']}")
    return CR.Correlation.apply(data1, _as_dtype(data2, data1.dtype), **attrs)


@computes_in_float32
def deformable_psroi_pooling(inp, rois, trans, no_trans, part_size, pooled_h, pooled_w,
                             sample_per_part, spatial_scale, trans_std=0.1):
    r"""Deformable PSROI (Position Sensitive Region of Interest) Pooling, as MegEngine's.

    Roi corners are rounded, scaled by ``spatial_scale`` and shifted by -0.5; bin (ph, pw) moves
    by ``trans_std`` times the roi size times the offsets of its part
    ``(floor(ph / pooled_h * part_size), floor(pw / pooled_w * part_size))``; a bin averages its
    ``sample_per_part^2`` bilinear samples that lie within half a pixel of the map. As in
    MegEngine, ``trans`` has shape ``(K, 2, pooled_h, pooled_w)`` (x then y offsets) and is read
    as flat ``part_size x part_size`` planes: part (a, b) of roi k reads
    ``trans.flatten()[((2 k + d) * part_size + a) * part_size + b]``, d = 0 for x, 1 for y.

    Args:
        inp: input feature map ``(N, C, H, W)``.
        rois: ``(K, 5)`` rois ``[batch_index, x1, y1, x2, y2]`` (the index is truncated to an
            int, as MegEngine does).
        trans: offsets ``(K, 2, pooled_h, pooled_w)``.
        no_trans: True skips the offsets (the first phase); trans is then not read.
        part_size: part size of the offsets.
        pooled_h: output height.
        pooled_w: output width.
        sample_per_part: sample points per bin along each axis.
        spatial_scale: scale of the rois w.r.t. the input map.
        trans_std: multiplier of the offsets. Default: 0.1

    Returns:
        ``(K, C, pooled_h, pooled_w)``, differentiable with respect to ``inp`` and ``trans``
        (megdnn's offset gradient, which does not differentiate the clamping to the map).

    Examples:
        >>> import numpy as np
        >>> inp = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> rois = Tensor(np.array([[0, 0, 0, 3, 3]], dtype=np.float32))
        >>> trans = Tensor(np.zeros((1, 2, 1, 1), dtype=np.float32))
        >>> F.deformable_psroi_pooling(inp, rois, trans, False, 1, 1, 1, 2, 1.0).numpy()
        array([[[[3.75]]]], dtype=float32)
    """
    fn = "deformable_psroi_pooling"
    inp = _image(inp, fn)
    rois = _float_tensor(as_tensor(rois, fn, like=inp), fn, "rois")
    trans = _float_tensor(as_tensor(trans, fn, like=inp), fn, "trans")
    if rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError(f"{fn}: rois must have shape (K, 5) = [batch_index, x1, y1, x2, y2], "
                         f"got {rois.shape}")
    attrs = dict(no_trans=bool(no_trans),
                 part_size=_nonneg_int(part_size, fn, "part_size", positive=not no_trans),
                 pooled_h=_nonneg_int(pooled_h, fn, "pooled_h", positive=True),
                 pooled_w=_nonneg_int(pooled_w, fn, "pooled_w", positive=True),
                 sample_per_part=_nonneg_int(sample_per_part, fn, "sample_per_part",
                                             positive=True),
                 spatial_scale=float(spatial_scale), trans_std=float(trans_std))
    if trans.ndim != 4:
        raise ValueError(f"{fn}: trans must be 4-D, got shape {trans.shape}")
    if not no_trans:
        k, p = rois.shape[0], attrs["part_size"]
        ph, pw = attrs["pooled_h"], attrs["pooled_w"]
        if trans.shape[1:] != (2, ph, pw):
            raise ValueError(f"{fn}: trans must have shape (K, 2, {ph}, {pw}) (MegEngine's "
                             f"layout), got {trans.shape}")
        if trans.shape[0] * ph * pw < k * p * p:
            raise ValueError(f"{fn}: trans {trans.shape} is too small for {k} rois with "
                             f"part_size {p} (read as {p} x {p} planes, as MegEngine does)")
    r = rois.numpy()
    # megdnn truncates the batch index to an int, so 0.83 reads image 0
    bad = ~((r[:, 0] > -1) & (r[:, 0] < inp.shape[0]) & np.isfinite(r).all(1))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{fn}: roi {k} = {r[k].tolist()} needs a batch index in "
                         f"[0, {inp.shape[0]}) and finite coordinates")
    out, _ = DP.DeformablePsroiPooling.apply(inp, _as_dtype(rois, inp.dtype),
                                             _as_dtype(trans, inp.dtype), **attrs)
    return out


@computes_in_float32
def cvt_color(inp, mode=""):
    r"""Convert images from one colour format to another (megdnn's coefficients).

    Args:
        inp: input images ``(N, H, W, C)``, channels last.
        mode: format mode. float32: "RGB2GRAY", "BGR2GRAY", "RGB2YUV", "YUV2RGB", "GRAY2RGB";
            uint8 also "RGBA2RGB", "RGBA2BGR", "RGBA2GRAY", "RGB2BGR", "BGR2RGB" (uint8 results
            use OpenCV's 14-bit fixed point, as MegEngine). Case-insensitive. The NV12 / NV21 /
            YV12 / YU12 / YCrCb / BT601 modes of MegEngine's uint8 CPU path are not implemented.

    Returns:
        convert result ``(N, H, W, C_out)``, of the input's dtype; not differentiable.

    Examples:
        >>> import numpy as np
        >>> x = mge.tensor(np.array([[[[-0.58675045, 1.7526233, 0.10702174]]]]).astype(np.float32))
        >>> y = F.vision.cvt_color(x, mode="RGB2GRAY")
        >>> y.numpy()
        array([[[[0.86555195]]]], dtype=float32)
    """
    fn = "cvt_color"
    inp = as_tensor(inp, fn)
    name = str(mode).upper()
    if name not in CC.MODES:
        raise ValueError(f"{fn}: unsupported mode {mode!r}; expected one of "
                         f"{sorted(CC.MODES)}")
    _, c_in, _, float_ok = CC.MODES[name]
    if inp.ndim != 4 or inp.shape[3] != c_in:
        raise ValueError(f"{fn}: mode {name} needs (N, H, W, {c_in}) images, got {inp.shape}")
    if inp.dtype == np.uint8:
        return CC.CvtColor.apply(inp, mode=name)
    if inp.dtype.kind != "f":
        raise TypeError(f"{fn}: expected float32 or uint8 images, got {inp.dtype}")
    if not float_ok:
        raise ValueError(f"{fn}: mode {name} is defined for uint8 images only, got {inp.dtype}")
    return CC.CvtColor.apply(inp.astype("float32") if inp.dtype != np.float32 else inp,
                             mode=name)
