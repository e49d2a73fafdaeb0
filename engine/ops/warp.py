"""warp_perspective (and warp_affine through it) and remap on our native kernels
(csrc/kernels/warp.h), with megdnn's border modes: each bilinear tap is mapped into the image on
its own, and in constant mode a tap outside reads border_val.

Gradients as MegEngine has them: both ops are differentiable with respect to the image and to
the sampling geometry (the matrices, or map_xy). The gradient ops have no derivative of their
own: nested GradManagers treat them as constants.
"""
import numpy as np

from .._native import native, stream_ptr
from ._kernels import call, f32, i32
from .core import Op

# kernels::WarpBorder
BORDERS = {"replicate": 0, "reflect": 1, "reflect_101": 2, "wrap": 3, "constant": 4}


def _on_gpu(xp):
    return xp is not np and native().with_cuda()


def _cuda_params(x_shape, n_out, out_hw, border, border_val, nearest, nan_to_border):
    n_in, c, h, w = x_shape
    return native().WarpParams(n_in, n_out, c, h, w, out_hw[0], out_hw[1], border,
                               float(border_val), nearest, nan_to_border)


def _idx_ptr(mat_idx):
    return mat_idx[0].data.ptr if mat_idx else 0


def _gpu_forward(xp, x, coords, mat_idx, out_hw, border, border_val, nearest, is_map):
    x, coords = xp.ascontiguousarray(f32(x)), xp.ascontiguousarray(f32(coords))
    mat_idx = [xp.ascontiguousarray(i32(i)) for i in mat_idx]
    n_out = coords.shape[0]
    out = xp.empty((n_out, x.shape[1]) + tuple(out_hw), np.float32)
    p = _cuda_params(x.shape, n_out, out_hw, border, border_val, nearest,
                     not is_map and border == BORDERS["constant"])
    native().warp_sample_forward_cuda(x.data.ptr, coords.data.ptr, _idx_ptr(mat_idx),
                                      out.data.ptr, p, is_map, stream_ptr(xp))
    return out


def _gpu_backward_data(xp, dout, coords, mat_idx, inp_shape, border, border_val, nearest,
                       is_map):
    dout, coords = xp.ascontiguousarray(f32(dout)), xp.ascontiguousarray(f32(coords))
    mat_idx = [xp.ascontiguousarray(i32(i)) for i in mat_idx]
    dx = xp.zeros(tuple(inp_shape), np.float32)
    p = _cuda_params(inp_shape, dout.shape[0], dout.shape[2:], border, border_val, nearest,
                     False)
    native().warp_sample_backward_data_cuda(dout.data.ptr, coords.data.ptr, _idx_ptr(mat_idx),
                                            dx.data.ptr, p, is_map, stream_ptr(xp))
    return dx


def _gpu_backward_coords(xp, x, coords, mat_idx, dout, border, border_val, nearest, is_map):
    x, coords = xp.ascontiguousarray(f32(x)), xp.ascontiguousarray(f32(coords))
    dout = xp.ascontiguousarray(f32(dout))
    mat_idx = [xp.ascontiguousarray(i32(i)) for i in mat_idx]
    n_out, _, oh, ow = dout.shape
    # remap: dmap itself; perspective: per-row partial sums, reduced here in a fixed order
    grad = xp.empty(coords.shape if is_map else (n_out, oh, 9), np.float32)
    p = _cuda_params(x.shape, n_out, (oh, ow), border, border_val, nearest, False)
    native().warp_sample_backward_coords_cuda(x.data.ptr, coords.data.ptr, _idx_ptr(mat_idx),
                                              dout.data.ptr, grad.data.ptr, p, is_map,
                                              stream_ptr(xp))
    return grad if is_map else grad.sum(1).reshape(n_out, 3, 3)


class WarpPerspective(Op):
    """(N_in, C, H, W) images, (N, 3, 3) matrices [, (N,) int32 mat_idx] -> (N, C, OH, OW)."""

    def forward(xp, x, mat, *mat_idx, out_shape, border, border_val):
        if _on_gpu(xp):
            out = _gpu_forward(xp, x, mat, mat_idx, out_shape, border, border_val, False, False)
        else:
            out = call(xp, "warp_perspective_forward", f32(x), f32(mat),
                       i32(mat_idx[0]) if mat_idx else None, out_h=out_shape[0],
                       out_w=out_shape[1], border=border, border_val=border_val)
        return out.astype(x.dtype, copy=False)

    def backward(ctx, dout):
        x, mat, *mat_idx = ctx.inputs
        need = ctx.needs_input_grad or (True, True)
        attrs = dict(border=ctx.attrs["border"], border_val=ctx.attrs["border_val"])
        dx = WarpPerspectiveGradData.apply(dout, mat, *mat_idx, inp_shape=tuple(x.shape),
                                           **attrs) if need[0] else None
        dmat = WarpPerspectiveGradMat.apply(x, mat, *mat_idx, dout, **attrs) if need[1] else None
        return (dx, dmat) + (None,) * len(mat_idx)


class WarpPerspectiveGradData(Op):
    differentiable = False

    def forward(xp, dout, mat, *mat_idx, inp_shape, border, border_val):
        if _on_gpu(xp):
            dx = _gpu_backward_data(xp, dout, mat, mat_idx, inp_shape, border, border_val,
                                    False, False)
        else:
            dx = call(xp, "warp_perspective_backward_data", f32(dout), f32(mat),
                      i32(mat_idx[0]) if mat_idx else None, inp_shape=tuple(inp_shape),
                      border=border, border_val=border_val)
        return dx.astype(dout.dtype, copy=False)


class WarpPerspectiveGradMat(Op):
    differentiable = False

    def forward(xp, x, mat, *rest, border, border_val):
        *mat_idx, dout = rest
        if _on_gpu(xp):
            dm = _gpu_backward_coords(xp, x, mat, mat_idx, dout, border, border_val, False,
                                      False)
        else:
            dm = call(xp, "warp_perspective_backward_mat", f32(x), f32(mat),
                      i32(mat_idx[0]) if mat_idx else None, f32(dout), border=border,
                      border_val=border_val)
        return dm.astype(mat.dtype, copy=False)


class Remap(Op):
    """(N, C, H, W) images, (N, OH, OW, 2) map of source (x, y) -> (N, C, OH, OW)."""

    def forward(xp, x, map_xy, border, border_val, nearest):
        if _on_gpu(xp):
            out = _gpu_forward(xp, x, map_xy, (), map_xy.shape[1:3], border, border_val, nearest,
                               True)
        else:
            out = call(xp, "remap_forward", f32(x), f32(map_xy), border=border,
                       border_val=border_val, nearest=nearest)
        return out.astype(x.dtype, copy=False)

    def backward(ctx, dout):
        x, map_xy = ctx.inputs
        need = ctx.needs_input_grad or (True, True)
        dx = RemapGradData.apply(dout, map_xy, inp_shape=tuple(x.shape),
                                 **ctx.attrs) if need[0] else None
        dmap = RemapGradMap.apply(x, map_xy, dout, **ctx.attrs) if need[1] else None
        return dx, dmap


class RemapGradData(Op):
    differentiable = False

    def forward(xp, dout, map_xy, inp_shape, border, border_val, nearest):
        if _on_gpu(xp):
            dx = _gpu_backward_data(xp, dout, map_xy, (), inp_shape, border, border_val, nearest,
                                    True)
        else:
            dx = call(xp, "remap_backward_data", f32(dout), f32(map_xy),
                      inp_shape=tuple(inp_shape), border=border, border_val=border_val,
                      nearest=nearest)
        return dx.astype(dout.dtype, copy=False)


class RemapGradMap(Op):
    differentiable = False

    def forward(xp, x, map_xy, dout, border, border_val, nearest):
        if _on_gpu(xp):
            dm = _gpu_backward_coords(xp, x, map_xy, (), dout, border, border_val, nearest, True)
        else:
            dm = call(xp, "remap_backward_map", f32(x), f32(map_xy), f32(dout), border=border,
                      border_val=border_val, nearest=nearest)
        return dm.astype(map_xy.dtype, copy=False)
