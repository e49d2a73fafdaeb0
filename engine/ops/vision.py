"""Detection ops on our native kernels: box IoU / GIoU (csrc/kernels/box_iou.h), NMS, ROIAlign
(kernels/roi_align.h) and ROI pooling (kernels/roi_pooling.h), with MegEngine's semantics.

The gradient ops here (BoxIouGrad, PairedIouGrad, RoiAlignGrad, RoiPoolingGrad) have no
derivative of their own: nested GradManagers treat them as constants.
"""
import numpy as np

from ._kernels import call, f32, i32
from .core import Op


class BoxIou(Op):
    """Pairwise IoU: (N, 4) x (M, 4) x1y1x2y2 boxes -> (N, M)."""

    def forward(xp, a, b):
        return call(xp, "box_iou", f32(a), f32(b)).astype(a.dtype, copy=False)

    def backward(ctx, dout):
        return BoxIouGrad.apply(*ctx.inputs, dout)


class BoxIouGrad(Op):
    n_outputs = 2
    differentiable = False

    def forward(xp, a, b, dout):
        da, db = call(xp, "box_iou_backward", f32(a), f32(b), f32(dout))
        return da.astype(a.dtype, copy=False), db.astype(b.dtype, copy=False)


class PairedIou(Op):
    """IoU (generalized=False) or GIoU of box i of a with box i of b: (N, 4), (N, 4) -> (N,)."""

    def forward(xp, a, b, generalized):
        return call(xp, "box_iou_paired", f32(a), f32(b),
                    generalized=generalized).astype(a.dtype, copy=False)

    def backward(ctx, dout):
        return PairedIouGrad.apply(*ctx.inputs, dout, **ctx.attrs)


class PairedIouGrad(Op):
    n_outputs = 2
    differentiable = False

    def forward(xp, a, b, dout, generalized):
        da, db = call(xp, "box_iou_paired_backward", f32(a), f32(b), f32(dout),
                      generalized=generalized)
        return da.astype(a.dtype, copy=False), db.astype(b.dtype, copy=False)


class Nms(Op):
    """Greedy NMS -> int32 indices kept, by descending score; with idxs, per class."""

    differentiable = False

    def forward(xp, boxes, scores, *idxs, iou_thresh, max_output):
        classes = i32(idxs[0]) if idxs else None
        return call(xp, "nms", f32(boxes), f32(scores), iou_thresh=iou_thresh,
                    max_output=max_output, idxs=classes)


class RoiAlign(Op):
    """(N, C, H, W) features, (K, 5) rois -> (K, C, PH, PW), and for max mode the int32 index
    of the winning sample in each bin (an empty array otherwise)."""

    n_outputs = 2
    save_outputs = True

    def forward(xp, x, rois, output_shape, mode, spatial_scale, sample_points, aligned):
        out, argmax = call(xp, "roi_align_forward", f32(x), f32(rois), pooled_h=output_shape[0],
                           pooled_w=output_shape[1], sample_h=sample_points[0],
                           sample_w=sample_points[1], spatial_scale=spatial_scale,
                           offset=0.5 if aligned else 0.0, max_mode=mode == "max")
        return out.astype(x.dtype, copy=False), argmax

    def backward(ctx, dout, dargmax):
        x, rois = ctx.inputs
        attrs = {k: v for k, v in ctx.attrs.items() if k != "output_shape"}
        return RoiAlignGrad.apply(dout, rois, ctx.outputs[1], inp_shape=x.shape, **attrs), None


class RoiAlignGrad(Op):
    differentiable = False

    def forward(xp, dout, rois, argmax, inp_shape, mode, spatial_scale, sample_points, aligned):
        return call(xp, "roi_align_backward", f32(dout), f32(rois), i32(argmax),
                    inp_shape=tuple(inp_shape), sample_h=sample_points[0],
                    sample_w=sample_points[1], spatial_scale=spatial_scale,
                    offset=0.5 if aligned else 0.0,
                    max_mode=mode == "max").astype(dout.dtype, copy=False)


class RoiPooling(Op):
    """(N, C, H, W) features, (K, 5) rois -> (K, C, PH, PW), and for max mode the int32 plane
    offset h * W + w of each bin's maximum (-1 for an empty bin; an empty array otherwise)."""

    n_outputs = 2
    save_outputs = True

    def forward(xp, x, rois, output_shape, mode, scale):
        out, argmax = call(xp, "roi_pooling_forward", f32(x), f32(rois),
                           pooled_h=output_shape[0], pooled_w=output_shape[1], scale=scale,
                           max_mode=mode == "max")
        return out.astype(x.dtype, copy=False), argmax

    def backward(ctx, dout, dargmax):
        x, rois = ctx.inputs
        return RoiPoolingGrad.apply(dout, rois, ctx.outputs[1], inp_shape=x.shape,
                                    mode=ctx.attrs["mode"], scale=ctx.attrs["scale"]), None


class RoiPoolingGrad(Op):
    differentiable = False

    def forward(xp, dout, rois, argmax, inp_shape, mode, scale):
        return call(xp, "roi_pooling_backward", f32(dout), f32(rois), i32(argmax),
                    inp_shape=tuple(inp_shape), scale=scale,
                    max_mode=mode == "max").astype(dout.dtype, copy=False)


del np
