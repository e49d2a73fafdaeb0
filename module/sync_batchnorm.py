"""SyncBatchNorm: BatchNorm whose statistics would be reduced over a process group. Engine's
distributed training is a separate issue; in one process the local batch is the whole batch,
so this is BatchNorm over (N, C), (N, C, L) or (N, C, H, W) input."""
import engine.functional as F

from .batchnorm import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    r"""Batch normalisation synchronised over ``group`` (MegEngine's constructor arguments).

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: weight of the old running statistics (MegEngine's sense: 0.9 keeps 90%).
        affine: learn weight and bias.
        track_running_stats: keep running mean and variance.
        freeze: use the running statistics and fixed weight/bias even when training.
        group: the process group; accepted, no effect in one process.

    Examples:
        >>> import numpy as np
        >>> m = M.SyncBatchNorm(3)
        >>> m(Tensor(np.ones((2, 3, 4, 4), dtype=np.float32))).shape
        (2, 3, 4, 4)
    """

    _ndims = (2, 3, 4)

    def __init__(self, num_features, eps=1e-5, momentum=0.9, affine=True,
                 track_running_stats=True, freeze=False, group=None, **kwargs):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, freeze,
                         **kwargs)
        self.group = group


del F
