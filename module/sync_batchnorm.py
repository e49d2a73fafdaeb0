"""SyncBatchNorm: BatchNorm whose batch statistics are those of the whole group's batch.

In training, each rank's per-channel sums are all-reduced over the group (twice: the mean
first, then the squared deviations from it, which keeps the variance as accurate as one
process's two-pass BatchNorm). The all-reduce is differentiable (its gradient is an all-reduce),
so the gradients are those of BatchNorm over the global batch. Outside a distributed job, in
eval mode or frozen, it is BatchNorm.
"""
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
        group: the process group whose batch is normalised together (None: WORLD).

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

    def forward(self, inp):
        import engine.distributed as dist

        group = dist.WORLD if self.group is None else self.group
        if (self.freeze or not (self.training or not self.track_running_stats)
                or dist.get_world_size() == 1 or group.size == 1):
            return super().forward(inp)
        x = self._as_4d(inp)
        axes = (0, 2, 3)
        count = F.full((1,), x.shape[0] * x.shape[2] * x.shape[3], dtype=x.dtype)
        sums = dist.functional.all_reduce_sum(
            F.concat([x.sum(axis=axes), count]), group)
        total = sums[-1:].reshape(1, 1, 1, 1)
        mean = sums[:-1].reshape(1, -1, 1, 1) / total
        centred = x - mean
        sq = dist.functional.all_reduce_sum((centred * centred).sum(axis=axes), group)
        var = sq.reshape(1, -1, 1, 1) / total
        out = centred * (var + self.eps) ** -0.5
        if self.weight is not None:
            out = out * self.weight + self.bias
        if self.training and self.track_running_stats:
            m = self.momentum
            unbiased = var.detach() * total / F.maximum(total - 1, 1)
            self.running_mean._reset(self.running_mean * m + mean.detach() * (1 - m))
            self.running_var._reset(self.running_var * m + unbiased * (1 - m))
        return out if out.ndim == inp.ndim else out.reshape(inp.shape)

