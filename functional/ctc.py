"""The CTC loss (F.loss.ctc_loss, also F.nn.ctc_loss), MegEngine's signature and semantics."""
import numpy as np

from engine.ops import ctc as CT
from engine.tensor import Tensor

from ._utils import as_tensor, computes_in_float32
from .math import mean, sum

__all__ = ["ctc_loss"]


def _lengths(x, n, fn, name, like):
    x = as_tensor(x, fn, like=like)
    if x.dtype.kind not in "iuf" or x.size != n:
        raise ValueError(f"{fn}: {name} must hold {n} integers (one per sequence), got "
                         f"{x.dtype} {x.shape}")
    v = np.asarray(x.numpy()).reshape(-1)
    if v.dtype.kind == "f" and not np.array_equal(v, np.round(v)):
        raise ValueError(f"{fn}: {name} must be integers, got {v}")
    return v.astype(np.int64)


def _padded_label(label, label_lengths, n, fn, like):
    """(N, S) int32 labels from MegEngine's two forms: (N, S) padded or sum(label_lengths)
    concatenated."""
    label = as_tensor(label, fn, like=like)
    if label.dtype.kind not in "iuf":
        raise TypeError(f"{fn}: label must be an integer tensor, got {label.dtype}")
    lab = np.asarray(label.numpy())
    if lab.ndim == 1:
        if lab.size != label_lengths.sum():
            raise ValueError(f"{fn}: a concatenated label must have sum(label_lengths) = "
                             f"{label_lengths.sum()} elements, got {lab.size}")
        out = np.zeros((n, max(int(label_lengths.max()), 1)), np.int32)
        starts = np.concatenate([[0], np.cumsum(label_lengths)[:-1]])
        for i, (s, k) in enumerate(zip(starts, label_lengths)):
            out[i, :k] = lab[s:s + k]
        return out
    if lab.ndim != 2 or lab.shape[0] != n:
        raise ValueError(f"{fn}: label must be (N, S) = ({n}, S) or concatenated 1-D, got "
                         f"{lab.shape}")
    if label_lengths.max() > lab.shape[1]:
        raise ValueError(f"{fn}: label_lengths must be in [1, {lab.shape[1]}] (label columns), "
                         f"got max {label_lengths.max()}")
    return lab.astype(np.int32)


# reduction="mean" is F.mean, float32 for any input (MegEngine's rule); the others narrow back
@computes_in_float32(cast_back=lambda args, kwargs: kwargs.get(
    "reduction", args[4] if len(args) > 4 else "mean") != "mean")
def ctc_loss(pred, pred_lengths, label, label_lengths, blank=0, reduction="mean"):
    r"""The Connectionist Temporal Classification loss.

    Args:
        pred: the probabilities of the output, shape (T, N, C), where T = input length,
            N = batch size and C = number of classes (including blank). They are read as
            ``log(max(pred, tiny))``, as MegEngine does.
        pred_lengths: number of time steps of each sequence in ``pred``, shape (N,).
        label: ground-truth labels without blanks, shape (N, S) or (sum(label_lengths),).
        label_lengths: number of labels of each sequence, shape (N,).
        blank: the blank symbol. Default: 0
        reduction: 'none' | 'mean' | 'sum'. 'mean' averages loss / label_lengths over the
            batch. Default: 'mean'

    Returns:
        loss value; differentiable with respect to ``pred``. An alignment that cannot exist
        (too few steps) gives a large finite loss, as in MegEngine, not inf.

    Examples:
        >>> pred = Tensor([[[0.0614, 0.9386], [0.8812, 0.1188]],
        ...                [[0.699, 0.301], [0.2572, 0.7428]]])
        >>> pred_lengths = Tensor([2, 2])
        >>> label = Tensor([1, 1])
        >>> label_lengths = Tensor([1, 1])
        >>> round(float(F.nn.ctc_loss(pred, pred_lengths, label, label_lengths)), 5)
        0.15044
    """
    fn = "ctc_loss"
    pred = as_tensor(pred, fn)
    if pred.dtype.kind != "f" or pred.ndim != 3:
        raise ValueError(f"{fn}: pred must be float probabilities of shape (T, N, C), got "
                         f"{pred.dtype} {pred.shape}")
    t, n, c = pred.shape
    if reduction not in ("none", "sum", "mean"):
        raise ValueError(f"{fn}: {reduction!r} is not a valid value for reduction "
                         "('none', 'sum' or 'mean')")
    if not 0 <= int(blank) < c:
        raise ValueError(f"{fn}: blank must be in label range [0, {c}), but got {blank}")
    pl = _lengths(pred_lengths, n, fn, "pred_lengths", pred)
    ll = _lengths(label_lengths, n, fn, "label_lengths", pred)
    if n and (pl.min() <= 0 or pl.max() > t):
        raise ValueError(f"{fn}: pred_lengths must be in range (0, {t}], got min {pl.min()}, "
                         f"max {pl.max()}")
    if n and ll.min() <= 0:
        raise ValueError(f"{fn}: label_lengths must be positive, got min {ll.min()}")
    lab = _padded_label(label, ll, n, fn, pred)
    used = np.concatenate([lab[i, :k] for i, k in enumerate(ll)]) if n else lab.reshape(-1)
    if used.size and (used.min() < 0 or used.max() >= c):
        raise ValueError(f"{fn}: labels must be in [0, {c}), got range [{used.min()}, "
                         f"{used.max()}]")
    dev = pred.device
    pred32 = pred if pred.dtype == np.float32 else pred.astype("float32")
    loss, _ = CT.CtcLoss.apply(pred32, Tensor(lab, device=dev),
                               Tensor(pl.astype(np.int32), device=dev),
                               Tensor(ll.astype(np.int32), device=dev), blank=int(blank))
    if reduction == "mean":
        return mean(loss / Tensor(ll.astype(np.float32), device=dev))
    if reduction == "sum":
        return sum(loss)
    return loss
