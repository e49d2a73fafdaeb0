"""Loss functions (also exported under F.nn, as in MegEngine)."""
from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import indexing as I
from engine.ops import loss as L
from engine.ops import softmax as SM

from ._utils import as_tensor, one_axis
from .ctc import ctc_loss  # noqa: F401
from .elemwise import abs, exp, log, log1p, maximum
from .math import mean, sum

__all__ = ["cross_entropy", "binary_cross_entropy", "l1_loss", "square_loss", "smooth_l1_loss",
           "sigmoid_focal_loss"]
__all__ += ["ctc_loss"]

_REDUCTIONS = ("none", "sum", "mean")


def _reduce(loss, reduction, fn):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _pair(pred, label, fn):
    pred, label = as_tensor(pred, fn), as_tensor(label, fn, like=pred)
    if pred.shape != label.shape:
        raise ValueError(f"{fn}: pred {pred.shape} and label {label.shape} must have one shape")
    if pred.dtype.kind != "f":
        raise TypeError(f"{fn}: pred must be floating point, got {pred.dtype}")
    if label.dtype != pred.dtype:
        label = E.Cast.apply(label, dtype=pred.dtype)
    return pred, label


def cross_entropy(pred, label, axis=1, with_logits=True, label_smooth=0, reduction="mean"):
    """Cross entropy of class scores `pred` (N, C, ...) against int labels (N, ...).

    with_logits: pred are logits (log-softmax applied here) rather than probabilities.
    label_smooth: mixes the one-hot target with the uniform distribution.
    """
    pred = as_tensor(pred, "cross_entropy")
    label = as_tensor(label, "cross_entropy", like=pred)
    axis = one_axis(axis, pred.ndim, "cross_entropy")
    want = pred.shape[:axis] + pred.shape[axis + 1:]
    if label.shape != want:
        raise ValueError(f"cross_entropy: label shape {label.shape} must be pred shape "
                         f"{pred.shape} without axis {axis}, i.e. {want}")
    if label.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: label must be an integer tensor, got {label.dtype}")
    if pred.dtype.kind != "f":
        raise TypeError(f"cross_entropy: pred must be floating point, got {pred.dtype}")
    n_cls = pred.shape[axis]
    if label.size and (int(label.min()) < 0 or int(label.max()) >= n_cls):
        raise ValueError(f"cross_entropy: labels must be in [0, {n_cls}), got range "
                         f"[{int(label.min())}, {int(label.max())}]")
    if with_logits:
        # One fused native op: log-softmax, NLL and smoothing forward, softmax - target backward.
        if label.dtype != _dt.int32:
            label = E.Cast.apply(label, dtype=_dt.int32)
        loss = SM.CrossEntropy.apply(pred, label, axis=axis, smooth=float(label_smooth))
        return _reduce(loss, reduction, "cross_entropy")
    logp = log(pred)
    idx = label.reshape(label.shape[:axis] + (1,) + label.shape[axis:])
    nll = -I.Gather.apply(logp, idx, axis=axis).reshape(want)
    if label_smooth:
        nll = nll * (1 - label_smooth) - mean(logp, axis) * label_smooth
    return _reduce(nll, reduction, "cross_entropy")


def sigmoid_focal_loss(pred, label, alpha=0.25, gamma=2.0, reduction="none"):
    """Focal loss of Lin et al. (torchvision's sigmoid_focal_loss): logits `pred` against float
    targets `label` of the same shape,
        loss = alpha_t * BCE_with_logits(pred, label) * (1 - p_t) ** gamma,
    p = sigmoid(pred), p_t = p label + (1 - p)(1 - label), alpha_t = alpha label +
    (1 - alpha)(1 - label); alpha < 0 turns the weighting off. One fused, numerically stable
    native op forward and backward (gradients for pred and label)."""
    pred, label = _pair(pred, label, "sigmoid_focal_loss")
    if not gamma >= 0:
        raise ValueError(f"sigmoid_focal_loss: gamma must be >= 0, got {gamma!r}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"sigmoid_focal_loss: reduction must be one of {_REDUCTIONS}, "
                         f"got {reduction!r}")
    loss = L.FocalLoss.apply(pred, label, alpha=float(alpha), gamma=float(gamma))
    return _reduce(loss, reduction, "sigmoid_focal_loss")


def binary_cross_entropy(pred, label, with_logits=True, reduction="mean"):
    """Binary cross entropy; with logits it is computed stably as
    max(x, 0) - x * y + log(1 + exp(-|x|))."""
    pred, label = _pair(pred, label, "binary_cross_entropy")
    if with_logits:
        loss = maximum(pred, 0) - pred * label + log1p(exp(-abs(pred)))
    else:
        loss = -(label * log(pred) + (1 - label) * log(1 - pred))
    return _reduce(loss, reduction, "binary_cross_entropy")


def l1_loss(pred, label, reduction="mean"):
    pred, label = _pair(pred, label, "l1_loss")
    return _reduce(abs(pred - label), reduction, "l1_loss")


def square_loss(pred, label, reduction="mean"):
    pred, label = _pair(pred, label, "square_loss")
    d = pred - label
    return _reduce(d * d, reduction, "square_loss")


def smooth_l1_loss(pred, label, beta=1.0, reduction="mean"):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""
    pred, label = _pair(pred, label, "smooth_l1_loss")
    d = abs(pred - label)
    if beta == 0:
        return _reduce(d, reduction, "smooth_l1_loss")
    small = E.Cast.apply(d < beta, dtype=pred.dtype)
    loss = small * (0.5 / beta) * d * d + (1 - small) * (d - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")

