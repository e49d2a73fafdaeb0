"""Deformable PSROI pooling on our native kernels (csrc/kernels/deformable_psroi.h), MegEngine's
semantics; differentiable with respect to the input and the offsets (trans), with megdnn's
offset gradient. DeformablePsroiPoolingGrad has no derivative of its own."""
import numpy as np

from .._native import native, stream_ptr
from ._kernels import call, f32
from .core import Op


def _on_gpu(xp):
    return xp is not np and native().with_cuda()


def _geometry(x, rois, trans, a):
    return native().deformable_psroi_geometry(
        list(x.shape), list(rois.shape), list(trans.shape), a["no_trans"], a["part_size"],
        a["pooled_h"], a["pooled_w"], a["sample_per_part"], a["spatial_scale"], a["trans_std"])


def _contig(xp, *arrays):
    return [xp.ascontiguousarray(f32(a)) for a in arrays]


class DeformablePsroiPooling(Op):
    """(N, C, H, W), rois (K, 5), trans (K, 2 num_cls, part, part) -> out and count, both
    (K, C, pooled_h, pooled_w)."""

    n_outputs = 2
    save_outputs = True

    def forward(xp, x, rois, trans, **attrs):
        if not _on_gpu(xp):
            out, count = call(xp, "deformable_psroi_forward", f32(x), f32(rois), f32(trans),
                              **attrs)
            return out.astype(x.dtype, copy=False), count
        x, rois, trans = _contig(xp, x, rois, trans)
        shape = (rois.shape[0], x.shape[1], attrs["pooled_h"], attrs["pooled_w"])
        out, count = xp.empty(shape, np.float32), xp.empty(shape, np.float32)
        native().deformable_psroi_forward_cuda(x.data.ptr, rois.data.ptr, trans.data.ptr,
                                               out.data.ptr, count.data.ptr,
                                               _geometry(x, rois, trans, attrs), stream_ptr(xp))
        return out, count

    def backward(ctx, dout, dcount):
        x, rois, trans = ctx.inputs
        dx, dtrans = DeformablePsroiPoolingGrad.apply(x, rois, trans, dout, ctx.outputs[1],
                                                      **ctx.attrs)
        return dx, None, dtrans


class DeformablePsroiPoolingGrad(Op):
    n_outputs = 2
    differentiable = False

    def forward(xp, x, rois, trans, dout, count, **attrs):
        if not _on_gpu(xp):
            dx, dtrans = call(xp, "deformable_psroi_backward", f32(x), f32(rois), f32(trans),
                              f32(dout), f32(count), **attrs)
            return dx.astype(x.dtype, copy=False), dtrans.astype(trans.dtype, copy=False)
        x, rois, trans, dout, count = _contig(xp, x, rois, trans, dout, count)
        dx, dtrans = xp.zeros(x.shape, np.float32), xp.zeros(trans.shape, np.float32)
        native().deformable_psroi_backward_cuda(x.data.ptr, rois.data.ptr, trans.data.ptr,
                                                dout.data.ptr, count.data.ptr, dx.data.ptr,
                                                dtrans.data.ptr, _geometry(x, rois, trans, attrs),
                                                stream_ptr(xp))
        return dx, dtrans
