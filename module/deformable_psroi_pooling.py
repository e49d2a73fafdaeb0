"""DeformablePSROIPooling: the layer form of F.deformable_psroi_pooling (MegEngine's)."""
import engine.functional as F

from .module import Module

__all__ = ["DeformablePSROIPooling"]


class DeformablePSROIPooling(Module):
    r"""Deformable PSROI pooling with fixed geometry; ``forward(inp, rois, trans)`` calls
    :func:`~.functional.deformable_psroi_pooling` with the arguments given here.

    Args:
        no_trans: True skips the offsets (``trans`` is then not read).
        part_size: part size of the offsets ``trans`` (K, 2 * num_classes, part, part).
        pooled_h: output height.
        pooled_w: output width.
        sample_per_part: sample points per bin along each axis.
        spatial_scale: scale of the rois w.r.t. the input map.
        trans_std: multiplier of the offsets. Default: 0.1

    Returns:
        a module whose forward returns ``(K, C, pooled_h, pooled_w)``.

    Examples:
        >>> import numpy as np
        >>> m = M.DeformablePSROIPooling(False, 1, 1, 1, 2, 1.0)
        >>> inp = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> rois = Tensor(np.array([[0, 0, 0, 3, 3]], dtype=np.float32))
        >>> m(inp, rois, Tensor(np.zeros((1, 2, 1, 1), dtype=np.float32))).shape
        (1, 1, 1, 1)
    """

    def __init__(self, no_trans, part_size, pooled_h, pooled_w, sample_per_part, spatial_scale,
                 trans_std: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.no_trans = no_trans
        self.part_size = part_size
        self.pooled_h = pooled_h
        self.pooled_w = pooled_w
        self.sample_per_part = sample_per_part
        self.spatial_scale = spatial_scale
        self.trans_std = trans_std

    def forward(self, inp, rois, trans):
        return F.deformable_psroi_pooling(inp, rois, trans, self.no_trans, self.part_size,
                                          self.pooled_h, self.pooled_w, self.sample_per_part,
                                          self.spatial_scale, self.trans_std)
