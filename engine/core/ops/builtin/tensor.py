"""Shape, reduction and selection descriptors (Dimshuffle, Broadcast, Reshape, GetVarShape,
Concat, Reduce, CondTake, NMSKeep, LAMBUpdate), computed with engine.functional."""
import numpy as np

from ._base import OpDef, make_enum


def _shape(t):
    return tuple(int(v) for v in (t.numpy() if hasattr(t, "numpy") else np.asarray(t)).ravel())


class Dimshuffle(OpDef):
    """x transposed by `pattern`, where -1 inserts a new axis of size 1 (MegEngine's
    Dimshuffle; F.transpose's "x")."""

    _attrs = ("pattern", "ndim")
    _defaults = ((), None)

    def _run(self, x):
        import engine.functional as F

        kept = [p for p in self.pattern if p != -1]
        y = F.transpose(x, kept) if kept != list(range(x.ndim)) else x
        new = [i for i, p in enumerate(self.pattern) if p == -1]
        return (F.expand_dims(y, new) if new else y,)


class Broadcast(OpDef):
    """x broadcast to the shape given as the second input."""

    _attrs = ("shape",)
    _defaults = ((),)

    def _run(self, x, shape=None):
        import engine.functional as F

        return (F.broadcast_to(x, _shape(shape) if shape is not None else self.shape),)


class Reshape(OpDef):
    """x reshaped to the shape given as the second input (or the `shape` attribute)."""

    _attrs = ("axis", "shape")
    _defaults = (None, ())

    def _run(self, x, shape=None):
        return (x.reshape(_shape(shape) if shape is not None else self.shape),)


class GetVarShape(OpDef):
    """The shape of x as an int32 tensor (one entry when `axis` is given)."""

    _attrs = ("axis",)
    _defaults = (None,)

    def _run(self, *xs):
        from ....tensor import Tensor

        shape = xs[0].shape
        value = shape if self.axis is None else (shape[self.axis],)
        return (Tensor(np.array(value, dtype=np.int32), device=xs[0].device),)


class Concat(OpDef):
    """The inputs concatenated along `axis`."""

    _attrs = ("axis", "comp_node")
    _defaults = (0, None)

    def _run(self, *xs):
        import engine.functional as F

        return (F.concat(list(xs), axis=self.axis),)


class Reduce(OpDef):
    """MegEngine's Reduce(mode, axis, keepdim=True): SUM, SUM_SQR, PRODUCT, MIN, MAX or MEAN
    over `axis` (all axes when None)."""

    Mode = make_enum("Reduce", ("SUM", "SUM_SQR", "PRODUCT", "MIN", "MAX", "MEAN"))
    _attrs = ("mode", "axis", "keepdim", "data_type")
    _defaults = ("SUM", None, True, "DEFAULT")

    def _check(self, name, value):
        return self.Mode(value) if name == "mode" else value

    def _run(self, x, *target):
        import engine.functional as F

        fn = {"SUM": F.sum, "PRODUCT": F.prod, "MIN": F.min, "MAX": F.max, "MEAN": F.mean,
              "SUM_SQR": lambda v, **kw: F.sum(v * v, **kw)}[str(self.mode)]
        if self.axis is None and target:
            raise NotImplementedError("Reduce: a target-shape input is not supported by engine; "
                                      "give the axis")
        return (fn(x, axis=self.axis, keepdims=bool(self.keepdim)),)


class CondTake(OpDef):
    """(values, int32 indices) of x where mask is true (x flattened)."""

    def _run(self, x, mask):
        import engine.functional as F

        return tuple(F.cond_take(mask, x))


class NMSKeep(OpDef):
    """MegEngine's NMSKeep(iou_thresh, max_output): boxes (B, N, 4), already sorted by
    descending score -> (kept indices (B, max_output) int32, padded with 0; counts (B,) int32)."""

    _attrs = ("iou_thresh", "max_output")
    _defaults = (0.5, 100)

    def _run(self, boxes):
        import engine.functional as F

        from ....tensor import Tensor

        n = boxes.shape[1]
        scores = Tensor(np.arange(n, 0, -1, dtype=np.float32), device=boxes.device)
        idx = np.zeros((boxes.shape[0], self.max_output), np.int32)
        count = np.zeros((boxes.shape[0],), np.int32)
        for b in range(boxes.shape[0]):
            keep = F.vision.nms(boxes[b], scores, self.iou_thresh, self.max_output).numpy()
            idx[b, :len(keep)] = keep
            count[b] = len(keep)
        return Tensor(idx, device=boxes.device), Tensor(count, device=boxes.device)


class LAMBUpdate(OpDef):
    """One LAMB step: (m, v, param, grad) -> (new m, new v, new param), MegEngine's formula
    (bias correction optional; the trust ratio |p| / |delta| when weight decay is on or
    always_adapt)."""

    _attrs = ("beta_1", "beta_2", "step", "lr", "weight_decay", "eps", "bias_correction",
              "always_adapt")
    _defaults = (0.9, 0.999, 1.0, 1e-3, 0.0, 1e-8, True, False)

    def _run(self, m, v, param, grad):
        import engine.functional as F

        grad = grad.astype(param.dtype)
        m = self.beta_1 * m + (1 - self.beta_1) * grad
        v = self.beta_2 * v + (1 - self.beta_2) * grad * grad
        c1 = 1 - self.beta_1 ** self.step if self.bias_correction else 1.0
        c2 = 1 - self.beta_2 ** self.step if self.bias_correction else 1.0
        delta = (m / c1) / (F.sqrt(v / c2) + self.eps)
        if self.weight_decay != 0:
            delta = delta + self.weight_decay * param
        p_norm = float(F.sqrt((param * param).sum()).item())
        d_norm = float(F.sqrt((delta * delta).sum()).item())
        adapt = (self.always_adapt or self.weight_decay > 0) and p_norm > 0 and d_norm > 0
        ratio = p_norm / d_norm if adapt else 1.0
        return m, v, param - self.lr * ratio * delta
