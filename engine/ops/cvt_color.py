"""cvt_color on our native kernels (csrc/kernels/cvt_color.h), megdnn's coefficients. Not
differentiable, as in MegEngine (its CvtColor has no gradient)."""
import numpy as np

from .._native import native, stream_ptr
from .core import Op

# kernels::CvtMode: name -> (code, input channels, output channels, float32 allowed)
MODES = {
    "RGB2GRAY": (0, 3, 1, True), "BGR2GRAY": (1, 3, 1, True), "RGB2YUV": (2, 3, 3, True),
    "YUV2RGB": (3, 3, 3, True), "GRAY2RGB": (4, 1, 3, True), "RGBA2RGB": (5, 4, 3, False),
    "RGBA2BGR": (6, 4, 3, False), "RGBA2GRAY": (7, 4, 1, False), "RGB2BGR": (8, 3, 3, False),
    "BGR2RGB": (9, 3, 3, False),
}


class CvtColor(Op):
    """(N, H, W, C_in) float32 / uint8 -> (N, H, W, C_out) of the same dtype."""

    differentiable = False

    def forward(xp, x, mode):
        code = MODES[mode][0]
        if xp is np:
            return native().cvt_color(x, code)
        x = xp.ascontiguousarray(x)
        out = xp.empty(x.shape[:-1] + (MODES[mode][2],), x.dtype)
        native().cvt_color_cuda(x.data.ptr, out.data.ptr, x.size // MODES[mode][1], code,
                                x.dtype == np.uint8, stream_ptr(xp))
        return out
