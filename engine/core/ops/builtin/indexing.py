"""Indexing descriptors (MegEngine's Subtensor family), computed with engine Tensor indexing.

``items`` is MegEngine's encoding: one ``(axis, has_begin, has_end, has_step, has_idx)`` per
indexed axis; the index tensors follow the data inputs, consumed in item order (begin, end,
step, idx). Set*/Incr* ops return a new tensor (the input is not modified).
"""
import numpy as np

from ._base import OpDef


def _host(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def _one_int(t):
    """A slice bound given as a tensor of one element (any shape: MegEngine passes (1,))."""
    a = _host(t)
    if a.size != 1:
        raise ValueError(f"a slice bound must be one integer, got a tensor of shape {a.shape}")
    return int(a.reshape(()))


def _decode(items, tensors):
    """[(axis, slice | int | int array)] from MegEngine's items and their index tensors."""
    it = iter(tensors)
    out = []
    for axis, has_b, has_e, has_s, has_i in items:
        if has_i:
            idx = _host(next(it))
            out.append((axis, int(idx) if idx.ndim == 0 else idx))
            continue
        b, e, s = (_one_int(next(it)) if f else None for f in (has_b, has_e, has_s))
        out.append((axis, slice(b, e, s)))
    rest = list(it)
    if rest:
        raise ValueError(f"{len(rest)} index tensor(s) more than the items {items} describe")
    return out


def _plain_index(x, decoded):
    """A numpy-style index tuple: slices / ints / arrays placed at their axes."""
    index = [slice(None)] * x.ndim
    for axis, v in decoded:
        index[axis if axis >= 0 else axis + x.ndim] = v
    return tuple(index)


def _mesh_index(x, decoded, batched):
    """Orthogonal (np.ix_) index arrays over every axis, plus the axes an int index removes.
    batched: axis 0 is the batch, and each array index of shape (B, k) differs per batch."""
    per_axis = [np.arange(n) for n in x.shape]
    dropped = []
    for axis, v in decoded:
        axis = axis if axis >= 0 else axis + x.ndim
        if isinstance(v, slice):
            per_axis[axis] = np.arange(x.shape[axis])[v]
        elif isinstance(v, int):
            per_axis[axis] = np.array([v])
            dropped.append(axis)
        else:
            per_axis[axis] = np.asarray(v)
    if not batched:
        return np.ix_(*per_axis), dropped
    nb = x.shape[0]
    lengths = [a.shape[-1] for a in per_axis[1:]]
    arrays = [np.arange(nb).reshape((nb,) + (1,) * len(lengths))]
    for j, a in enumerate(per_axis[1:]):
        a = np.broadcast_to(a, (nb, a.shape[-1]))
        shape = [nb] + [1] * len(lengths)
        shape[j + 1] = a.shape[-1]
        arrays.append(a.reshape(shape))
    return tuple(arrays), dropped


class _Indexing(OpDef):
    _attrs = ("items",)
    _defaults = ((),)
    _mode = "get"  # "get" | "set" | "incr"
    _mesh = None  # None: plain numpy indexing; "mesh" / "batched": orthogonal index arrays

    def _check(self, name, value):
        return tuple(tuple(bool(f) if i else int(f) for i, f in enumerate(item))
                     for item in value)

    def _run(self, x, *rest):
        from ....tensor import Tensor

        value = None
        if self._mode != "get":
            value, rest = rest[0], rest[1:]
            if not isinstance(value, Tensor):
                value = Tensor(value, dtype=x.dtype, device=x.device)
        decoded = _decode(self.items, rest)
        if self._mesh is None:
            index, dropped = _plain_index(x, decoded), []
        else:
            index, dropped = _mesh_index(x, decoded, self._mesh == "batched")
        if self._mode == "get":
            y = x[index]
            return (y.reshape([n for i, n in enumerate(y.shape) if i not in dropped])
                    if dropped else y,)
        target_shape = x[index].shape
        if dropped:
            value = value.reshape(value.shape[:min(dropped)] + (1,) * len(dropped)
                                  + value.shape[min(dropped):]) if value.ndim else value
        import engine.functional as F

        y = F.copy(x)
        if value.shape != target_shape:
            value = F.broadcast_to(value, target_shape)
        y[index] = value if self._mode == "set" else y[index] + value
        return (y,)


def _variant(name, mode, mesh, doc):
    return type(name, (_Indexing,), {"_mode": mode, "_mesh": mesh, "__doc__": doc})


Subtensor = _variant("Subtensor", "get", None, "x[begin:end:step, idx] (basic indexing).")
SetSubtensor = _variant("SetSubtensor", "set", None, "x with x[items] = value.")
IncrSubtensor = _variant("IncrSubtensor", "incr", None, "x with x[items] += value.")
IndexingMultiAxisVec = _variant("IndexingMultiAxisVec", "get", None,
                                "x[items] with integer-array indices (numpy advanced indexing).")
IndexingSetMultiAxisVec = _variant("IndexingSetMultiAxisVec", "set", None,
                                   "x with x[array indices] = value.")
IndexingIncrMultiAxisVec = _variant("IndexingIncrMultiAxisVec", "incr", None,
                                    "x with x[array indices] += value.")
MeshIndexing = _variant("MeshIndexing", "get", "mesh",
                        "x indexed orthogonally: each axis's indices apply on their own (np.ix_).")
SetMeshIndexing = _variant("SetMeshIndexing", "set", "mesh", "x with its mesh = value.")
IncrMeshIndexing = _variant("IncrMeshIndexing", "incr", "mesh", "x with its mesh += value.")
BatchedMeshIndexing = _variant("BatchedMeshIndexing", "get", "batched",
                               "mesh indexing whose indices (B, k) differ per batch (axis 0).")
BatchedSetMeshIndexing = _variant("BatchedSetMeshIndexing", "set", "batched",
                                  "x with its per-batch mesh = value.")
BatchedIncrMeshIndexing = _variant("BatchedIncrMeshIndexing", "incr", "batched",
                                   "x with its per-batch mesh += value.")


class IndexingOneHot(OpDef):
    """MegEngine's IndexingOneHot(axis, ndim): src's entries picked by `index` along `axis`
    (the axis kept, of size 1)."""

    _attrs = ("axis", "ndim")
    _defaults = (0, None)

    def _run(self, src, index):
        import engine.functional as F

        return (F.indexing_one_hot(src, index, self.axis, keepdims=True),)


class IndexingSetOneHot(OpDef):
    """MegEngine's IndexingSetOneHot(axis, ndim): src with src[.., index, ..] (along `axis`)
    set to `value` (whose `axis` has size 1)."""

    _attrs = ("axis", "ndim")
    _defaults = (0, None)

    def _run(self, src, index, value):
        import engine.functional as F

        from ....tensor import Tensor

        axis = self.axis
        shape = [1] * src.ndim
        shape[axis] = src.shape[axis]
        positions = Tensor(np.arange(src.shape[axis]).reshape(shape), dtype="int32",
                           device=src.device)
        mask = F.expand_dims(index, axis) == positions
        return (F.where(mask, F.broadcast_to(value, src.shape), src),)
