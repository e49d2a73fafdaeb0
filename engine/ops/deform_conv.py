"""The column buffer of a modulated deformable convolution (MegEngine's DeformableConv) and its
gradient; the weight GEMM on top of it is an ordinary Matmul (functional/conv_special.py).

    DeformIm2col(x, offset, mask)              -> col (N, C*kh*kw, OH*OW)
    DeformIm2colGrad(x, offset, mask, dcol)    -> (dx, doffset, dmask)

Layouts and math in csrc/kernels/deform_conv.h (CPU loops in csrc/cpu/deform_conv.cpp, CUDA
kernels in csrc/cuda/deform_conv.cu). Attributes: kernel, stride, padding, dilation (pairs).
"""
import numpy as np

from .._native import _C, native, stream_ptr
from ._kernels import call, f32
from .core import Op


def _cuda(xp):
    return xp is not np and _C is not None and hasattr(_C, "deform_im2col_cuda")


def _contiguous_f32(xp, *arrays):
    return [xp.ascontiguousarray(f32(a)) for a in arrays]


class DeformIm2col(Op):
    """col[n, c*T + t, p] = mask[n, dg, t, p] * bilinear(x[n, c], sample point of tap t at p)."""

    def forward(xp, x, offset, mask, kernel, stride, padding, dilation):
        dtype = x.dtype
        win = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
        if _cuda(xp):
            x, offset, mask = _contiguous_f32(xp, x, offset, mask)
            n, c = x.shape[:2]
            col = xp.empty((n, c * kernel[0] * kernel[1], offset.shape[2] * offset.shape[3]),
                           np.float32)
            native().deform_im2col_cuda(x.data.ptr, offset.data.ptr, mask.data.ptr, col.data.ptr,
                                        x.shape, offset.shape, mask.shape,
                                        stream=stream_ptr(xp), **win)
        else:  # numpy, or CuPy without our CUDA kernels (a host round trip)
            col = call(xp, "deform_im2col", f32(x), f32(offset), f32(mask), **win)
        return col if dtype == np.float32 else col.astype(dtype)

    def backward(ctx, dcol):
        x, offset, mask = ctx.inputs
        return DeformIm2colGrad.apply(x, offset, mask, dcol, **ctx.attrs)


class DeformIm2colGrad(Op):
    """(dx, doffset, dmask) of DeformIm2col given dcol. Not differentiable itself (no double
    backward through deformable conv, as in MegEngine)."""

    n_outputs = 3
    differentiable = False

    def forward(xp, x, offset, mask, dcol, kernel, stride, padding, dilation):
        dtypes = (x.dtype, offset.dtype, mask.dtype)
        win = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation)
        if _cuda(xp):
            x, offset, mask, dcol = _contiguous_f32(xp, x, offset, mask, dcol)
            grads = [xp.empty(a.shape, np.float32) for a in (x, offset, mask)]
            native().deform_col2im_cuda(x.data.ptr, offset.data.ptr, mask.data.ptr,
                                        dcol.data.ptr, *(g.data.ptr for g in grads), x.shape,
                                        offset.shape, mask.shape, stream=stream_ptr(xp), **win)
        else:
            grads = call(xp, "deform_col2im", f32(x), f32(offset), f32(mask), f32(dcol), **win)
        return tuple(g if g.dtype == d else g.astype(d) for g, d in zip(grads, dtypes))
