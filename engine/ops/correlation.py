"""FlowNet correlation on our native kernels (csrc/kernels/correlation.h), MegEngine's semantics.
Differentiable with respect to both inputs; CorrelationGrad has no derivative of its own."""
import numpy as np

from .._native import native, stream_ptr
from ._kernels import call, f32
from .core import Op


def _on_gpu(xp):
    return xp is not np and native().with_cuda()


def _geometry(shape, attrs):
    return native().correlation_geometry(list(shape), attrs["kernel_size"],
                                         attrs["max_displacement"], attrs["stride1"],
                                         attrs["stride2"], attrs["pad_size"],
                                         attrs["is_multiply"])


class Correlation(Op):
    """(N, C, H, W) x (N, C, H, W) -> (N, (2 r + 1)^2, OH, OW), r = max_displacement // stride2."""

    def forward(xp, d1, d2, **attrs):
        if not _on_gpu(xp):
            return call(xp, "correlation_forward", f32(d1), f32(d2),
                        **attrs).astype(d1.dtype, copy=False)
        a, b = xp.ascontiguousarray(f32(d1)), xp.ascontiguousarray(f32(d2))
        p = _geometry(a.shape, attrs)
        out = xp.empty((a.shape[0], p.out_c, p.out_h, p.out_w), np.float32)
        native().correlation_forward_cuda(a.data.ptr, b.data.ptr, out.data.ptr, p,
                                          stream_ptr(xp))
        return out

    def backward(ctx, dout):
        g1, g2 = CorrelationGrad.apply(*ctx.inputs, dout, **ctx.attrs)
        return g1, g2


class CorrelationGrad(Op):
    n_outputs = 2
    differentiable = False

    def forward(xp, d1, d2, dout, **attrs):
        if not _on_gpu(xp):
            g1, g2 = call(xp, "correlation_backward", f32(d1), f32(d2), f32(dout), **attrs)
            return g1.astype(d1.dtype, copy=False), g2.astype(d2.dtype, copy=False)
        a, b = xp.ascontiguousarray(f32(d1)), xp.ascontiguousarray(f32(d2))
        g = xp.ascontiguousarray(f32(dout))
        g1, g2 = xp.empty(a.shape, np.float32), xp.empty(b.shape, np.float32)
        native().correlation_backward_cuda(a.data.ptr, b.data.ptr, g.data.ptr, g1.data.ptr,
                                           g2.data.ptr, _geometry(a.shape, attrs),
                                           stream_ptr(xp))
        return g1, g2
