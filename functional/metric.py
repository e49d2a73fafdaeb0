"""Metrics (F.metric, as MegEngine): topk_accuracy."""
from engine import dtype as _dt
from engine.ops import elemwise as E
from engine.ops import shape as S

from ._utils import as_tensor
from .math import topk as _topk

__all__ = ["topk_accuracy"]


def topk_accuracy(logits, target, topk=1):
    r"""The fraction of samples whose label is among the ``k`` highest scores.

    Args:
        logits: (N, C) scores.
        target: (N,) integer labels.
        topk: an int, or a tuple of ints for several accuracies at once.

    Returns:
        a float32 scalar tensor in [0, 1], or a list of them when topk is a tuple.

    Examples:
        >>> logits = Tensor([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
        >>> target = Tensor([2, 0])
        >>> top1, top2 = F.metric.topk_accuracy(logits, target, (1, 2))
        >>> top1.item(), top2.item()
        (0.5, 1.0)
    """
    fn = "topk_accuracy"
    ks = (topk,) if isinstance(topk, int) else tuple(topk)
    logits = as_tensor(logits, fn)
    target = as_tensor(target, fn, like=logits)
    if logits.ndim != 2 or target.shape != (logits.shape[0],):
        raise ValueError(f"{fn}: expected logits (N, C) and target (N,), got {logits.shape} and "
                         f"{target.shape}")
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ValueError(f"{fn}: topk must be a positive int or a tuple of them, got {topk!r}")
    n = target.shape[0]
    _, pred = _topk(logits.detach(), max(ks))
    if target.dtype != pred.dtype:
        target = E.Cast.apply(target, dtype=pred.dtype)
    accs = []
    for k in ks:
        k = min(k, pred.shape[1])
        hits = E.Equal.apply(pred[:, :k], S.BroadcastTo.apply(
            S.Reshape.apply(target, shape=(n, 1)), shape=(n, k)))
        accs.append(E.Cast.apply(hits, dtype=_dt.float32).sum() / n)
    return accs[0] if len(accs) == 1 else accs

