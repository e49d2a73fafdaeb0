"""Fused losses on our native kernels: the sigmoid focal loss (csrc/kernels/focal_loss.h)."""
from ._kernels import call, f32
from .core import Op


class FocalLoss(Op):
    """Elementwise sigmoid focal loss of logits x against float targets t (torchvision's
    formula; alpha < 0 disables the class weighting)."""

    def forward(xp, x, t, alpha, gamma):
        return call(xp, "focal_loss_forward", f32(x), f32(t), alpha=alpha,
                    gamma=gamma).astype(x.dtype, copy=False)

    def backward(ctx, dloss):
        x, t = ctx.inputs
        dx, dt = FocalLossGrad.apply(x, t, dloss, **ctx.attrs)
        return dx, dt


class FocalLossGrad(Op):
    """(dx, dt) of the focal loss scaled by dloss, in one native pass. Its own derivative is not
    implemented: a GradManager nested around a focal-loss backward sees it as a constant."""

    n_outputs = 2
    differentiable = False

    def forward(xp, x, t, dloss, alpha, gamma):
        dx, dt = call(xp, "focal_loss_backward", f32(x), f32(t), f32(dloss), alpha=alpha,
                      gamma=gamma)
        return dx.astype(x.dtype, copy=False), dt.astype(t.dtype, copy=False)
