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
__all__ += ["hinge_loss"]
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
    if not _dt.is_float(pred.dtype):
        raise TypeError(f"{fn}: pred must be floating point, got {pred.dtype}")
    if label.dtype != pred.dtype:
        label = E.Cast.apply(label, dtype=pred.dtype)
    return pred, label


def cross_entropy(pred, label, axis=1, with_logits=True, label_smooth=0, reduction="mean"):
    """Cross entropy between class scores and integer class labels.

    The loss of one sample is ``-log(p[label])``, where ``p`` are the class probabilities
    along ``axis``. With ``label_smooth = s`` the target is the one-hot vector mixed with the
    uniform distribution, ``(1 - s) * onehot + s / C``.

    Args:
        pred: floating-point scores of shape (N, C, ...), classes along ``axis``.
        label: integer labels in [0, C) of ``pred``'s shape without ``axis``, e.g. (N, ...).
        axis: the class axis of ``pred``.
        with_logits: if True ``pred`` are logits (log-softmax is applied here, stably);
            if False they are probabilities.
        label_smooth: the smoothing factor s in [0, 1).
        reduction: ``"mean"`` (the mean over all elements), ``"sum"`` or ``"none"`` (the
            loss of each element).

    Returns:
        a 0-d loss, or one loss per sample of ``label``'s shape with ``reduction="none"``.

    Examples:
        >>> logits = Tensor([[2., 0., 0.], [0., 0., 0.]])
        >>> label = Tensor([0, 1])
        >>> F.nn.cross_entropy(logits, label).numpy()
        array(0.6690785, dtype=float32)
        >>> F.nn.cross_entropy(logits, label, reduction="none").numpy()
        array([0.23954476, 1.0986123 ], dtype=float32)
        >>> F.nn.cross_entropy(Tensor([[0.5, 0.25, 0.25]]), Tensor([0]), with_logits=False).numpy()
        array(0.6931472, dtype=float32)
    """
    pred = as_tensor(pred, "cross_entropy")
    label = as_tensor(label, "cross_entropy", like=pred)
    axis = one_axis(axis, pred.ndim, "cross_entropy")
    want = pred.shape[:axis] + pred.shape[axis + 1:]
    if label.shape != want:
        raise ValueError(f"cross_entropy: label shape {label.shape} must be pred shape "
                         f"{pred.shape} without axis {axis}, i.e. {want}")
    if _dt.is_float(label.dtype):  # MegEngine truncates float labels to int32 class indices
        label = E.Cast.apply(label, dtype=_dt.int32)
    if label.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: label must be an integer tensor, got {label.dtype}")
    if not _dt.is_float(pred.dtype):
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
    """Focal loss (Lin et al., RetinaNet) of logits against binary targets.

    With ``p = sigmoid(pred)``, ``p_t = p * label + (1 - p) * (1 - label)`` and ``alpha_t =
    alpha * label + (1 - alpha) * (1 - label)``, the loss of each element is
    ``alpha_t * BCE_with_logits(pred, label) * (1 - p_t) ** gamma`` (as torchvision's
    sigmoid_focal_loss). It is one numerically stable native op, forward and backward.

    Args:
        pred: floating-point logits.
        label: targets in [0, 1] of ``pred``'s shape.
        alpha: the weight of the positive class; a negative alpha turns the weighting off.
        gamma: the focusing exponent, >= 0 (0 gives plain binary cross entropy).
        reduction: ``"none"`` (the default: the loss of each element), ``"mean"`` or
            ``"sum"``.

    Returns:
        a tensor of ``pred``'s shape, or a 0-d tensor when reduced.

    Examples:
        >>> pred = Tensor([[2., -1.], [0., 3.]])
        >>> label = Tensor([[1., 0.], [1., 0.]])
        >>> F.nn.sigmoid_focal_loss(pred, label).numpy()
        array([[4.5089066e-04, 1.6993543e-02],
               [4.3321699e-02, 2.0747104e+00]], dtype=float32)
        >>> F.nn.sigmoid_focal_loss(pred, label, reduction="sum").numpy()
        array(2.1354766, dtype=float32)
    """
    pred, label = _pair(pred, label, "sigmoid_focal_loss")
    if not gamma >= 0:
        raise ValueError(f"sigmoid_focal_loss: gamma must be >= 0, got {gamma!r}")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"sigmoid_focal_loss: reduction must be one of {_REDUCTIONS}, "
                         f"got {reduction!r}")
    loss = L.FocalLoss.apply(pred, label, alpha=float(alpha), gamma=float(gamma))
    return _reduce(loss, reduction, "sigmoid_focal_loss")


def binary_cross_entropy(pred, label, with_logits=True, reduction="mean"):
    """Binary cross entropy between predictions and targets in [0, 1].

    With logits it is computed stably as ``max(x, 0) - x * y + log(1 + exp(-|x|))``; with
    probabilities as ``-(y * log(p) + (1 - y) * log(1 - p))``.

    Args:
        pred: floating-point logits (``with_logits=True``) or probabilities.
        label: targets of ``pred``'s shape.
        with_logits: whether ``pred`` are logits.
        reduction: ``"mean"`` (the mean over all elements), ``"sum"`` or ``"none"`` (the
            loss of each element).

    Returns:
        a 0-d loss, or a tensor of ``pred``'s shape with ``reduction="none"``.

    Examples:
        >>> pred = Tensor([[0.], [2.]])
        >>> label = Tensor([[1.], [0.]])
        >>> F.nn.binary_cross_entropy(pred, label).numpy()
        array(1.4100376, dtype=float32)
        >>> F.nn.binary_cross_entropy(Tensor([0.5, 0.9]), Tensor([1., 1.]), with_logits=False,
        ...                           reduction="none").numpy()
        array([0.6931472 , 0.10536055], dtype=float32)
    """
    pred, label = _pair(pred, label, "binary_cross_entropy")
    if with_logits:
        loss = maximum(pred, 0) - pred * label + log1p(exp(-abs(pred)))
    else:
        loss = -(label * log(pred) + (1 - label) * log(1 - pred))
    return _reduce(loss, reduction, "binary_cross_entropy")


def _numeric_pair(pred, label, fn):
    """As _pair, but integer predictions are allowed (MegEngine's l1/square loss): their
    "none" and "sum" losses stay integer, the mean is float32."""
    pred, label = as_tensor(pred, fn), as_tensor(label, fn, like=pred)
    if not _dt.is_number(pred.dtype):
        raise TypeError(f"{fn}: pred must be a number tensor, got {pred.dtype}")
    if not _dt.is_float(pred.dtype) and _dt.is_float(label.dtype):
        pred = E.Cast.apply(pred, dtype=label.dtype)
    if pred.shape != label.shape:
        raise ValueError(f"{fn}: pred {pred.shape} and label {label.shape} must have one shape")
    if label.dtype != pred.dtype:
        label = E.Cast.apply(label, dtype=pred.dtype)
    return pred, label


def l1_loss(pred, label, reduction="mean"):
    """Mean absolute error (L1 loss) between a prediction and a label.

    The loss of each element is ``|pred - label|``. As MegEngine, integer tensors are allowed:
    their ``"none"`` and ``"sum"`` losses stay integer and the mean is float32; an integer
    ``pred`` with a float ``label`` is cast to the label's dtype.

    Args:
        pred: predicted number tensor.
        label: target tensor of ``pred``'s shape.
        reduction: ``"mean"`` (the default), ``"sum"`` or ``"none"`` (the loss of each
            element).

    Returns:
        a 0-d loss, or a tensor of ``pred``'s shape with ``reduction="none"``.

    Examples:
        >>> pred = Tensor([[0.5, 1.], [2., 3.]])
        >>> label = Tensor([[1., 1.], [0., 5.]])
        >>> F.nn.l1_loss(pred, label).numpy()
        array(1.125, dtype=float32)
        >>> F.nn.l1_loss(pred, label, reduction="none").numpy()
        array([[0.5, 0. ],
               [2. , 2. ]], dtype=float32)
        >>> F.nn.l1_loss(Tensor([3, 1, 2]), Tensor([1, 1, 5]), reduction="sum").numpy()
        array(5, dtype=int32)
    """
    pred, label = _numeric_pair(pred, label, "l1_loss")
    return _reduce(abs(pred - label), reduction, "l1_loss")


def square_loss(pred, label, reduction="mean"):
    """Mean squared error (L2 loss) between a prediction and a label.

    The loss of each element is ``(pred - label) ** 2``. As MegEngine, integer tensors are
    allowed and, since MegEngine squares with ``pow``, give float32 losses for every
    reduction.

    Args:
        pred: predicted number tensor.
        label: target tensor of ``pred``'s shape.
        reduction: ``"mean"`` (the default), ``"sum"`` or ``"none"`` (the loss of each
            element).

    Returns:
        a 0-d loss, or a tensor of ``pred``'s shape with ``reduction="none"``.

    Examples:
        >>> pred = Tensor([[0.5, 1.], [2., 3.]])
        >>> label = Tensor([[1., 1.], [0., 5.]])
        >>> F.nn.square_loss(pred, label).numpy()
        array(2.0625, dtype=float32)
        >>> F.nn.square_loss(pred, label, reduction="sum").numpy()
        array(8.25, dtype=float32)
        >>> F.nn.square_loss(Tensor([3, 1, 2]), Tensor([1, 1, 5]), reduction="none").numpy()
        array([4., 0., 9.], dtype=float32)
    """
    pred, label = _numeric_pair(pred, label, "square_loss")
    if not _dt.is_float(pred.dtype):  # MegEngine squares with pow: float32 even for integers
        pred = E.Cast.apply(pred, dtype=_dt.float32)
        label = E.Cast.apply(label, dtype=_dt.float32)
    d = pred - label
    return _reduce(d * d, reduction, "square_loss")


def smooth_l1_loss(pred, label, beta=1.0, reduction="mean"):
    """Smooth L1 (Huber-like) loss: with ``d = |pred - label|``, ``0.5 * d ** 2 /
    beta`` where ``d < beta`` and ``d - 0.5 * beta`` elsewhere; beta 0 gives the L1 loss.

    Args:
        pred: floating-point predictions.
        label: targets of ``pred``'s shape.
        beta: where the loss changes from quadratic to linear, >= 0.
        reduction: ``"mean"`` (the mean over all elements), ``"sum"`` or ``"none"`` (the
            loss of each element).

    Returns:
        a 0-d loss, or a tensor of ``pred``'s shape with ``reduction="none"``.

    Examples:
        >>> pred = Tensor([0., 0.5, 3.])
        >>> label = Tensor([0., 0., 0.])
        >>> F.nn.smooth_l1_loss(pred, label, reduction="none").numpy()
        array([0.   , 0.125, 2.5  ], dtype=float32)
        >>> F.nn.smooth_l1_loss(pred, label).numpy()
        array(0.875, dtype=float32)
    """
    pred, label = _pair(pred, label, "smooth_l1_loss")
    d = abs(pred - label)
    if beta == 0:
        return _reduce(d, reduction, "smooth_l1_loss")
    small = E.Cast.apply(d < beta, dtype=pred.dtype)
    loss = small * (0.5 / beta) * d * d + (1 - small) * (d - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")



def hinge_loss(pred, label, norm="L1", reduction="mean"):
    r"""Hinge loss of SVMs: ``sum_j max(0, 1 - pred_ij * label_ij)`` per sample ("L1"), or the
    sum of its squares ("L2"), then reduced over the samples.

    Args:
        pred: (N, C) scores.
        label: (N, C) labels in {-1, 1}.
        norm: "L1" or "L2" (case-insensitive).
        reduction: "none" | "mean" | "sum".

    Returns:
        the loss: (N,) with reduction "none", else a scalar.

    Examples:
        >>> pred = Tensor([[0.5, -0.5, 0.1], [-0.6, 0.7, 0.8]])
        >>> label = Tensor([[1, -1, -1], [-1, 1, 1]])
        >>> F.nn.hinge_loss(pred, label).numpy()
        array(1.5, dtype=float32)
        >>> F.nn.hinge_loss(pred, label, reduction="none").numpy()
        array([2.1, 0.9], dtype=float32)
        >>> F.nn.hinge_loss(pred, label, reduction="sum").numpy()
        array(3., dtype=float32)
    """
    fn = "hinge_loss"
    if not isinstance(norm, str) or norm.upper() not in ("L1", "L2"):
        raise ValueError(f"{fn}: norm must be 'L1' or 'L2', got {norm!r}")
    pred, label = _numeric_pair(pred, label, fn)
    if pred.ndim != 2:
        raise ValueError(f"{fn}: pred and label must be (N, C), got shape {pred.shape}")
    margin = maximum(1.0 - pred * label, 0.0)
    if norm.upper() == "L2":
        margin = margin * margin
    return _reduce(sum(margin, 1), reduction, fn)
