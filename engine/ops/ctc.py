"""The CTC loss on our native kernels (csrc/kernels/ctc.h), with MegEngine's semantics: pred holds
probabilities (T, N, C) read through log(max(p, tiny)), labels are padded (N, S) int32.

CtcLossGrad has no derivative of its own: nested GradManagers treat it as a constant.
"""
import numpy as np

from .._native import native, stream_ptr
from ._kernels import call, f32, i32
from .core import Op


def _on_gpu(xp):
    return xp is not np and native().with_cuda()


def _contig(xp, *arrays):
    return [xp.ascontiguousarray(a) for a in arrays]


class CtcLoss(Op):
    """(T, N, C) probabilities, (N, S) labels, (N,) lengths -> per-sequence loss (N,), and the
    log-space forward variables alpha (N, T, 2S + 1) that the backward reuses."""

    n_outputs = 2
    save_outputs = True

    def forward(xp, pred, label, pred_lengths, label_lengths, blank):
        if not _on_gpu(xp):
            loss, alpha = call(xp, "ctc_loss_forward", f32(pred), i32(label), i32(pred_lengths),
                               i32(label_lengths), blank=blank)
            return loss.astype(pred.dtype, copy=False), alpha
        pred, label, pl, ll = _contig(xp, f32(pred), i32(label), i32(pred_lengths),
                                      i32(label_lengths))
        t, n, c = pred.shape
        loss = xp.empty((n,), np.float32)
        alpha = xp.empty((n, t, 2 * label.shape[1] + 1), np.float32)
        C = native()
        C.ctc_loss_forward_cuda(pred.data.ptr, label.data.ptr, pl.data.ptr, ll.data.ptr,
                                loss.data.ptr, alpha.data.ptr,
                                C.CtcParams(t, n, c, label.shape[1], blank), stream_ptr(xp))
        return loss, alpha

    def backward(ctx, dloss, dalpha):
        pred, label, pl, ll = ctx.inputs
        loss, alpha = ctx.outputs
        return (CtcLossGrad.apply(pred, label, pl, ll, loss, alpha, dloss, **ctx.attrs),
                None, None, None)


class CtcLossGrad(Op):
    differentiable = False

    def forward(xp, pred, label, pred_lengths, label_lengths, loss, alpha, dloss, blank):
        if not _on_gpu(xp):
            return call(xp, "ctc_loss_backward", f32(pred), i32(label), i32(pred_lengths),
                        i32(label_lengths), f32(loss), f32(alpha), f32(dloss),
                        blank=blank).astype(pred.dtype, copy=False)
        pred, label, pl, ll, loss, alpha, dloss = _contig(
            xp, f32(pred), i32(label), i32(pred_lengths), i32(label_lengths), f32(loss),
            f32(alpha), f32(dloss))
        t, n, c = pred.shape
        dpred = xp.empty(pred.shape, np.float32)
        scratch = xp.empty((n, 2, 2 * label.shape[1] + 1), np.float32)
        C = native()
        C.ctc_loss_backward_cuda(pred.data.ptr, label.data.ptr, pl.data.ptr, ll.data.ptr,
                                 loss.data.ptr, alpha.data.ptr, dloss.data.ptr, dpred.data.ptr,
                                 scratch.data.ptr, C.CtcParams(t, n, c, label.shape[1], blank),
                                 stream_ptr(xp))
        return dpred
