"""NCHW resizing, nearest and bilinear, on our native kernels (csrc/kernels/interpolate.h).
Both directions are linear maps, each the other's adjoint, so gradients of every order exist."""
from ._kernels import call, f32
from .core import Op


def _scales(attrs):
    return dict(scale_h=attrs["scale_h"], scale_w=attrs["scale_w"],
                bilinear=attrs["mode"] == "bilinear", align_corners=attrs["align_corners"])


class Interpolate(Op):
    """(N, C, H, W) -> (N, C, out_h, out_w); scale_h/scale_w are the source-coordinate scales
    (see functional/vision.py)."""

    def forward(xp, x, size, scale_h, scale_w, mode, align_corners):
        attrs = dict(scale_h=scale_h, scale_w=scale_w, mode=mode, align_corners=align_corners)
        return call(xp, "interpolate_forward", f32(x), out_h=size[0], out_w=size[1],
                    **_scales(attrs)).astype(x.dtype, copy=False)

    def backward(ctx, dy):
        h, w = ctx.inputs[0].shape[2:]
        return InterpolateGrad.apply(dy, in_size=(h, w), **{k: v for k, v in ctx.attrs.items()
                                                             if k != "size"})


class InterpolateGrad(Op):
    """The adjoint of Interpolate: (N, C, out_h, out_w) -> (N, C, in_h, in_w)."""

    def forward(xp, dy, in_size, scale_h, scale_w, mode, align_corners):
        attrs = dict(scale_h=scale_h, scale_w=scale_w, mode=mode, align_corners=align_corners)
        return call(xp, "interpolate_backward", f32(dy), in_h=in_size[0], in_w=in_size[1],
                    **_scales(attrs)).astype(dy.dtype, copy=False)

    def backward(ctx, ddx):
        attrs = {k: v for k, v in ctx.attrs.items() if k != "in_size"}
        return Interpolate.apply(ddx, size=tuple(ctx.inputs[0].shape[2:]), **attrs)
