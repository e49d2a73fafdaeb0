"""Where DTR meets the rest of engine, and the one place that installs it: the Op.apply wrapper
(pin inputs, rematerialise evicted ones, time the op, record the producer), the Storage class
and Storage.__init__ that op results and plain allocations get, Tensor's metadata properties
(read from the record while evicted), and the GradManager's node_backward/PendingGradients.
install() swaps all of them and uninstall() puts back exactly what was there."""
import math
import time
import weakref

from .. import allocator
from ..allocator import Storage
from ..ops import core
from . import policy, recompute, storage
from . import state as S

_perf = time.perf_counter
_weakref = weakref.ref


class node_backward:
    """`with node_backward(node, grads):` around a node's backward in the GradManager's sweep
    and the storing of the gradients it returns. Until the block ends, what the node works on
    stays resident:
    - its incoming gradients (pinned);
    - each of its inputs and saved outputs that the backward reads, from that read on. A
      backward reads them across several ops (conv's reads x for dw after computing dx); pinned
      only by each op, a value recomputed for the first could be evicted to make room for the
      next, and recomputed again. Those it never reads (an Add's inputs) are neither recomputed
      nor held;
    - what it computes (no eviction candidate, but freed as usual when it dies). Evicting dx
      while dw is computed looks cheap, as dy is resident; but dy is freed once the sweep moves
      on, and recomputing dx would then rerun the backward chain behind it.
    Once stored, the gradients wait in PendingGradients, pinned."""

    __slots__ = ("watched", "incoming", "outer")

    def __init__(self, node, grads):
        watched = self.watched = [s.rec for s, _, _ in node.edges if type(s) is storage.DTRStorage]
        if node.saved:
            watched += [s.rec for s in node.saved if type(s) is storage.DTRStorage]
        self.incoming = [g._storage.rec for g in grads
                         if g is not None and type(g._storage) is storage.DTRStorage]

    def __enter__(self):
        for rec in self.watched:
            rec.watch = True
        for rec in self.incoming:
            storage.pin(rec)
        self.outer = S.held, S.backward_id
        S.backward_count += 1
        S.held, S.backward_id = [], S.backward_count

    def __exit__(self, *exc):
        for rec in self.watched:
            rec.watch = False
        for rec in S.held + self.incoming:
            storage.release(rec)
        S.held, S.backward_id = self.outer


class PendingGradients(dict):
    """The sweep's gradients that wait for their node, while DTR is on: each is pinned from
    the moment it is stored until it is popped (node_backward pins it while its node runs), or
    until close(). Evicting one would be a bad trade: the upstream gradients it was computed
    from are freed as the sweep moves on, so its recompute would rerun the backward chain behind
    it. (Without DTR the sweep holds them all the same.) Only the methods the sweep uses
    (get, in, [], []=, pop) are supported: the others would bypass the pins."""

    def __init__(self):
        super().__init__()
        self._pinned = {}  # key -> the record pinned for it (the tensor's storage may change)

    def __setitem__(self, key, t):
        old = self._pinned.pop(key, None)
        if type(t._storage) is storage.DTRStorage:
            rec = self._pinned[key] = t._storage.rec
            storage.pin(rec)
        if old is not None:
            storage.release(old)
        dict.__setitem__(self, key, t)

    def pop(self, key, default=None):
        rec = self._pinned.pop(key, None)
        if rec is not None:
            storage.release(rec)
        return dict.pop(self, key, default)

    def close(self):
        """Unpin what is left: the attached tensors' gradients (frozen by then) and those no
        node was left to take."""
        for rec in self._pinned.values():
            storage.release(rec)
        self._pinned.clear()
        dict.clear(self)

    def _unsupported(self, *args, **kwargs):
        raise TypeError("PendingGradients supports get, in, [], []= and pop only")

    __delitem__ = setdefault = update = clear = popitem = _unsupported


def _meta(s):
    """(shape, dtype) of storage s, without recomputing it when evicted."""
    a = s.rec.array if type(s) is storage.DTRStorage else s.array
    if a is None:
        return s.rec.meta
    return a.shape, a.dtype


def _shape(t):
    return _meta(t._storage)[0]


def _dtype(t):
    return _meta(t._storage)[1]


def _ndim(t):
    return len(_meta(t._storage)[0])


def _size(t):
    return math.prod(_meta(t._storage)[0])


# Tensor's metadata properties while DTR is on: a shape query must not recompute a tensor
_TENSOR_META = {"shape": property(_shape), "dtype": property(_dtype), "ndim": property(_ndim),
                "size": property(_size)}


# ------------------------------------------------------------------ install / uninstall
_MISSING = object()
_saved = []         # (owner, name, what it held: a value, or _MISSING) while installed
_inner_apply = None  # the Op.apply that _dtr_apply wraps (the plain one, or another hook's)


def _patches():
    """(owner, name, value while DTR is on) for every name DTR swaps."""
    from ..tensor import Tensor

    return ([(core.Op, "apply", classmethod(_dtr_apply)), (core, "Storage", storage.DTRStorage),
             (allocator, "Storage", storage.DTRStorage),
             (Storage, "__init__", storage.counted_storage_init)]
            + [(Tensor, k, prop) for k, prop in _TENSOR_META.items()])


def _own(owner, name):
    # a class's own attribute (not one it inherits), so uninstall can delete what it added:
    # Storage has no __init__ of its own, and one left behind would slow every allocation
    if isinstance(owner, type):
        return owner.__dict__.get(name, _MISSING)
    return getattr(owner, name)


def install():
    """Swap in DTR's versions of every patched name (see _patches); idempotent."""
    global _inner_apply
    if _saved:
        return
    _inner_apply = core.Op.__dict__["apply"].__func__
    for owner, name, value in _patches():
        _saved.append((owner, name, _own(owner, name)))
        setattr(owner, name, value)
    core.apply_hooks += 1


def uninstall():
    """Put back exactly what install() found (deleting what it added); idempotent."""
    global _inner_apply
    if not _saved:
        return
    while _saved:
        owner, name, value = _saved.pop()
        if value is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, value)
    core.apply_hooks -= 1
    _inner_apply = None


def active():
    return S.enabled


def _dtr_apply(cls, *inputs, **attrs):
    S.clock += 1
    ins = []
    evicted = False
    for t in inputs:  # pin every input first: recomputing one must not evict another
        s = t._storage
        if type(s) is storage.DTRStorage:
            r = s.rec
            storage.pin(r)
            if r.array is None:
                evicted = True
            ins.append(r)
        else:
            ins.append(s)
    ins = tuple(ins)
    try:
        if evicted:
            for r in ins:
                if type(r) is storage.Record and r.array is None:
                    recompute.rematerialize(r)
        t0 = _perf()
        try:
            out = _inner_apply(cls, *inputs, **attrs)
        except MemoryError as e:
            out = _retry_after_oom(cls, inputs, attrs, e)
        cost = _perf() - t0
    finally:
        for r in ins:
            if type(r) is storage.Record:
                # (the caller's Tensors keep their handles alive: none died meanwhile)
                storage.unpin(r)
    if cls.n_outputs == 1:
        s = out._storage
        if type(s) is storage.DTRStorage:
            _record_producer(s.rec, cls, ins, attrs, None, cost)
        return out
    recs = [t._storage.rec for t in out if type(t._storage) is storage.DTRStorage]
    siblings = tuple(_weakref(r) for r in recs)
    for rec in recs:
        _record_producer(rec, cls, ins, attrs, siblings, cost)
    return out


def _retry_after_oom(cls, inputs, attrs, error):
    """The device ran out of memory in cls's forward (numpy's or CuPy's MemoryError): evict and
    try again, until it fits or policy.oom says nothing is left."""
    while True:
        if not inputs:
            raise error
        policy.oom(inputs[0]._storage.device, error, cls.__name__)
        try:
            return _inner_apply(cls, *inputs, **attrs)
        except MemoryError as e:
            error = e


def _record_producer(rec, cls, ins, attrs, siblings, cost):
    if rec.op is not None or rec in ins:  # an input handed back, or a value from elsewhere
        return
    rec.op, rec.inputs, rec.attrs, rec.siblings, rec.cost = cls, ins, attrs, siblings, cost
    rec.backward_id = S.backward_id
    me = _weakref(rec)
    for r in ins:
        if type(r) is storage.Record:
            c = r.consumers
            if c is None:
                r.consumers = [me]
            else:
                c.append(me)
                n = len(c)
                if n >= 32 and not n & (n - 1):  # at each power of two: forget the dead ones
                    r.consumers = [w for w in c if w() is not None]
