"""DTR: dynamic tensor rematerialization (Kirisame et al., ICLR 2021) in the allocator.

    mge.dtr(eviction_threshold="2GB")            # on; or `with mge.dtr(...):`
    mge.dtr.disable(); mge.dtr.stats()

How it hooks in, at zero cost while off: `enable()` swaps a few names - `Op.apply` (a wrapper
that pins the inputs, rematerialises evicted ones, times the op and records the producer on its
outputs), the `Storage` class that core.py and allocator.py allocate op results with (a
DTRStorage), `Storage.__init__` (so that plain allocations count against the threshold too),
and Tensor's shape/dtype/ndim/size (read from the record while evicted: a shape query never
recomputes). The GradManager's sweep runs each node's backward in node_backward and keeps
its waiting gradients in PendingGradients: gradients are never evicted (see there why). With
DTR off an op costs what it did.

Two objects per op result, MegEngine's split between a tensor handle and its TensorInfo:
- a `_Record` holds the array (None while evicted), its bytes and its producer (op, input
  records, attributes). Producer links point at records, never at handles.
- a `DTRStorage` is the handle that Tensors and the autograd tape hold. Its `array` property
  rematerialises an evicted record, so every reader (Op.apply, Tensor.numpy, the tape's saved
  tensors, the optimizer) sees the value it would without DTR. When the last handle goes, the
  user can no longer read the value: the array is freed at once, exactly when it would be
  without DTR, and the record stays only as long as another record may need it to recompute.
  So with a loose budget DTR holds what plain training holds and evicts nothing.

Plain Storages (parameters, optimizer state, user tensors) have no record and are never
evicted. Random numbers (engine.random) remember the generator state they were drawn with and
replay it, so dropout masks come back bit-identical. Results of in-place updates
(`Tensor._reset`) are frozen: resident for good, their producer forgotten.

Eviction: before an allocation would pass eviction_threshold (on the CPU, numpy allocates the
output inside forward, so this happens when its Storage is created, before its bytes count: live
bytes stay under threshold + the largest request), and after the device reports out of memory
(numpy's or CuPy's MemoryError from forward: evict, retry; MemoryError with the numbers when
nothing is left). The victim has the lowest h = cost / (bytes * staleness), the cost counting
the evicted groups (union-find, the paper's equivalence classes) it would join. A threshold that
cannot be met even by evicting everything is soft (see _charge). Recompute is iterative (an
explicit stack) and pins the inputs of every op it reruns; dead inputs it had to recompute that
are too small for the pool are dropped again right after.

Debugging: set `_trace` to a list to collect the evict/recompute events.
"""
import math
import random as _pyrandom
import re
import time
import weakref

import numpy as np

from . import allocator
from .allocator import Storage
from .ops import core

_perf = time.perf_counter
_weakref = weakref.ref

_enabled = False
_threshold = 0          # bytes; 0 = evict only when an allocation fails
_min_size = 1 << 20     # evictee_minimum_size
_sqrt_sampling = False
_allowance = {}         # device -> bytes tolerated over the threshold while it cannot be met
                        # (_charge)
_clock = 0              # one tick per op: staleness is measured in ops
_pool = {}              # id -> weakref of every resident, evictable record of _min_size bytes+
_sampler = _pyrandom.Random(0)  # picks sqrt(N) candidates; never touches values
_held = []              # records pinned by the running node backward's reads (node_backward)
_backward_id = 0        # the serial number of the running node_backward; 0 outside any
_backward_count = 0     # node_backward blocks so far
_trace = None           # debugging: set to a list to collect ("evict"|"recompute", op name,
                        # KiB, record id mod 10007, clock) events
_stats = dict(evictions=0, recomputations=0, recompute_seconds=0.0, evicted_bytes=0,
              over_budget=0)


class _Record:
    """One op result as DTR sees it: its array (None while evicted) and how to recompute it."""

    __slots__ = ("array", "device", "nbytes", "base", "op", "inputs", "attrs", "siblings",
                 "consumers", "cost", "last", "pins", "evictable", "alive", "views", "group",
                 "meta", "watch", "backward_id", "__weakref__")

    def __init__(self, array, device, base=None, view=False, charge=True):
        self.array = array
        self.device = device
        self.base = base          # the record whose buffer this view shares, if any
        self.op = None
        self.inputs = ()          # input records, or plain Storages (never evicted)
        self.attrs = None
        self.siblings = None      # weakrefs to all outputs of a multi-output op
        self.consumers = None     # weakrefs to the records computed from this one
        self.cost = 0.0           # seconds its producer took
        self.last = _clock
        self.pins = 0
        self.evictable = True
        self.alive = True         # a handle (a Tensor or the tape) can still read it
        self.views = None         # weakrefs to view records sharing this one's buffer
        self.group = None         # while evicted: its _Group of connected evicted records
        self.meta = None          # while evicted: (shape, dtype), read without recomputing
        self.watch = False        # an input or saved output of the node whose backward runs
        self.backward_id = 0      # the node_backward it was made in, if any
        if view:
            self.nbytes = 0       # the bytes are counted once, on the base
            if base is not None:  # (a view of a plain Storage: its buffer is never evicted)
                if base.views is None:
                    base.views = []
                base.views.append(_weakref(self))
            return
        n = self.nbytes = array.nbytes
        if charge:
            _charge(device, n)
        if n and n >= _min_size:
            _pool[id(self)] = _weakref(self)

    def __del__(self):
        try:
            if self.nbytes and self.array is not None:
                self.device.live -= self.nbytes
            _pool.pop(id(self), None)
            if self.group is not None:
                _find(self.group).cost -= self.cost
        except (AttributeError, TypeError):  # interpreter shutdown
            pass


class DTRStorage(Storage):
    """The handle of a _Record: what Tensors and the autograd tape hold (see the docstring)."""

    __slots__ = ("rec",)

    def __init__(self, array, device, base=None):
        self.device = device
        self.base = base
        rec = self.rec = _Record(array, device, base.rec if type(base) is DTRStorage else None,
                                 view=base is not None)
        self.nbytes = rec.nbytes

    def _get_array(self):
        rec = self.rec
        a = rec.array
        if a is None:
            a = _rematerialize(rec)
        if rec.watch:  # the running node backward reads it: keep it until that ends
            rec.watch = False
            _pin(rec)
            _held.append(rec)
        rec.last = _clock
        return a

    def _set_array(self, array):
        self.rec.array = array

    array = property(_get_array, _set_array)

    @property
    def resident(self):
        return self.rec.array is not None

    def freeze(self):
        """Make this value plain: resident for good, its producer forgotten (results of
        in-place updates, which DTR must never have to recompute)."""
        if type(self.base) is DTRStorage:
            self.base.freeze()  # a view's buffer is its base's: evicting that would lose it
        rec = self.rec
        if rec.array is None:
            _rematerialize(rec)
        rec.evictable = False
        rec.op = rec.attrs = None
        rec.inputs = ()
        _pool.pop(id(rec), None)

    def detached(self):
        """A handle sharing this value outside autograd (Tensor.detach), recomputable."""
        a = DTRStorage(self.array, self.device, base=self.base or self)
        a.rec.op, a.rec.inputs = _Alias, (self.rec,)
        return a

    def __del__(self):
        # The last handle: nobody can read the value any more. Free it now, as plain training
        # would; the record lives on only while other records may need it to recompute.
        try:
            rec = self.rec
            rec.alive = False
            _free_if_dead(rec)
        except (AttributeError, TypeError):  # interpreter shutdown
            pass


def _free_if_dead(rec):
    """Free the buffer of a record no handle can read any more, unless pinned. (One with no
    consumer is not needed for any recompute: it goes, and its bytes, with the record.)"""
    if (not rec.alive and not rec.pins and rec.consumers is not None and rec.array is not None
            and rec.op is not None and rec.evictable):
        _drop(rec)


def _forget_array(rec):
    """Let go of rec's array, remembering its shape and dtype (Tensor.shape reads them)."""
    a = rec.array
    if a is not None:
        rec.meta = (a.shape, a.dtype)
        rec.array = None


def _drop(rec):
    """Release rec's buffer (and clear the views that would keep it alive)."""
    _pool.pop(id(rec), None)
    _forget_array(rec)
    _join(rec)
    if rec.nbytes:
        rec.device.live -= rec.nbytes
    if rec.views:
        alive = []
        for r in rec.views:
            v = r()
            if v is not None:
                _forget_array(v)
                _join(v)
                alive.append(r)
        rec.views = alive


class _Group:
    """A set of connected evicted records (union-find) and what recomputing all of it costs:
    the paper's equivalence classes, which price an eviction by the evicted neighbourhood it
    would join."""

    __slots__ = ("parent", "cost")

    def __init__(self, cost):
        self.parent = None
        self.cost = cost


def _find(g):
    while g.parent is not None:
        p = g.parent
        if p.parent is not None:
            g.parent = p.parent  # path halving
        g = p
    return g


def _evicted_groups(rec):
    """The distinct evicted groups (roots) that rec's producers and consumers belong to."""
    roots = []
    for n in rec.inputs:
        if type(n) is _Record and n.group is not None:
            g = _find(n.group)
            if g not in roots:
                roots.append(g)
    if rec.consumers:
        for r in rec.consumers:
            n = r()
            if n is not None and n.group is not None:
                g = _find(n.group)
                if g not in roots:
                    roots.append(g)
    return roots


def _join(rec):
    """rec was just evicted: it joins the groups of its evicted producers and consumers."""
    if rec.op is None or rec.group is not None:
        return
    root = _Group(rec.cost)
    for g in _evicted_groups(rec):
        g.parent = root
        root.cost += g.cost
    rec.group = root


def _leave(rec):
    """rec is resident again: its recompute no longer counts in its group."""
    if rec.group is not None:
        _find(rec.group).cost -= rec.cost
        rec.group = None


# ------------------------------------------------------------------ accounting and eviction
def _charge(device, n):
    """Count n new bytes on device, evicting first when they would pass the threshold.

    When even evicting everything evictable cannot make room (what the running ops hold is more
    than the threshold), the threshold is soft: the live bytes of that moment become the limit
    until usage falls back under the threshold. Evicting down to it anyway would only evict what
    the next ops read and recompute it, over and over."""
    live = device.live
    if _enabled and _threshold and live + n > _threshold:
        allowance = _allowance.get(device, 0)
        if live + n <= _threshold + allowance:
            pass
        elif _free(device, live + n - _threshold - allowance):
            pass
        else:
            _stats["over_budget"] += 1
            _allowance[device] = live + n - _threshold
    elif _allowance and live + n <= _threshold:
        _allowance.pop(device, None)
    live = device.live = device.live + n
    if live > device.peak:
        device.peak = live


def _free(device, need, partial=False):
    """Evict until `need` bytes are freed on device; False when not enough is evictable. Then,
    unless `partial` (a failed allocation, where any freed block may help), nothing is evicted:
    going over the threshold is the cheaper failure than evicting what the next ops need."""
    if not partial and _pool_bytes(device)[1] < need:
        return False
    while need > 0:
        rec = _pick(device)
        if rec is None and partial:  # the device is full: what a node backward made can go too
            rec = _pick(device, protect_backward=False)
        if rec is None:
            return False
        need -= rec.nbytes
        _evict(rec)
    return True


def _is_candidate(rec, device, protect_backward=True):
    """Whether rec (a dereferenced pool entry) can be evicted from device now. Unless the device
    is out of memory, not what the running node backward has made so far (node_backward)."""
    return (rec is not None and not rec.pins and rec.op is not None and rec.device is device
            and rec.array is not None
            and not (protect_backward and rec.backward_id and rec.backward_id == _backward_id))


def _pool_bytes(device):
    """(pinned, evictable) resident bytes of the pool's records on device."""
    pinned = evictable = 0
    for r in list(_pool.values()):
        rec = r()
        if _is_candidate(rec, device):
            evictable += rec.nbytes
        elif rec is not None and rec.pins and rec.device is device and rec.array is not None:
            pinned += rec.nbytes
    return pinned, evictable


def _pick(device, protect_backward=True):
    """The resident, unpinned, recomputable record with the lowest
    h = cost of its evicted neighbourhood / (bytes * staleness)."""
    refs = list(_pool.values())
    if _sqrt_sampling and len(refs) > 16:
        refs = _sampler.sample(refs, math.isqrt(len(refs)) + 1) + [None] + refs
    best, best_h, clock = None, math.inf, _clock
    for r in refs:
        if r is None:  # end of the sample: the full list follows, only if the sample found none
            if best is not None:
                break
            continue
        rec = r()
        if not _is_candidate(rec, device, protect_backward):
            continue
        h = _neighbourhood_cost(rec) / (rec.nbytes * (clock - rec.last + 1))
        if h < best_h:
            best, best_h = rec, h
    return best


def _neighbourhood_cost(rec):
    """rec's cost plus that of the evicted groups it touches: what evicting it adds to a later
    recompute (the paper's equivalence-class heuristic)."""
    cost = rec.cost
    for g in _evicted_groups(rec):
        cost += g.cost
    return cost


def _evict(rec):
    if _trace is not None:
        _trace.append(("evict", rec.op.__name__, rec.nbytes >> 10, id(rec) % 10007, _clock))
    _drop(rec)
    _stats["evictions"] += 1
    _stats["evicted_bytes"] += rec.nbytes


def _pin(rec):
    rec.pins += 1
    if rec.base is not None:
        rec.base.pins += 1


def _unpin(rec):
    rec.pins -= 1
    if rec.base is not None:
        rec.base.pins -= 1


def _oom(device, error, where):
    """The device ran out of memory in `where`: evict at least the failed request. MemoryError,
    with what is live, pinned and evictable, when nothing is left to evict."""
    need = _requested_bytes(error)
    if not _enabled or not _free(device, need, partial=True):
        pinned, evictable = _pool_bytes(device)
        raise MemoryError(
            f"DTR: out of memory on {device} in {where}: requested {need} bytes; live "
            f"{device.live} bytes, of which {pinned} pinned (in use by the running op or "
            f"backward, or gradients waiting for their node) and "
            f"{evictable} evictable (nothing left to evict); ({error})") from error
    if device.xp is not np:  # freed blocks go back to CuPy's pool; hand them to the driver
        device.xp.get_default_memory_pool().free_all_blocks()


_ALLOCATING = re.compile(r"allocating ([\d,]+) bytes")


def _requested_bytes(error):
    """The size of the failed allocation, from the error: numpy's _ArrayMemoryError has it in
    _total_size, CuPy's OutOfMemoryError only in its message ("Out of memory allocating
    1,048,576 bytes ..."); 1 when it does not say."""
    n = getattr(error, "_size", None) or getattr(error, "_total_size", None)
    if n:
        return n
    m = _ALLOCATING.search(str(error))
    return int(m.group(1).replace(",", "")) if m else 1


# ------------------------------------------------------------------------- rematerialisation
def _rematerialize(target):
    """Recompute an evicted record; evicted inputs first, with an explicit stack (a network a
    thousand layers deep needs no Python recursion). Each frame pins the inputs it has made
    resident, so that recomputing the next input cannot evict them again."""
    if target.op is None:
        raise RuntimeError("DTR: an evicted tensor has no producer to recompute it from")
    stack = [(target, [])]
    try:
        _recompute_stack(stack)
    except BaseException:
        for _, pinned in stack:  # a failed recompute leaves nothing pinned for good
            for i in pinned:
                if type(i) is _Record:
                    _release(i)
        raise
    return target.array


def _recompute_stack(stack):
    while stack:
        rec, pinned = stack[-1]
        pending = None
        if rec.array is None:
            for i in rec.inputs[len(pinned):]:
                if type(i) is _Record:
                    if i.array is None:
                        pending = i
                        break
                    _pin(i)
                pinned.append(i)
            if pending is not None:
                stack.append((pending, []))
                continue
            _run(rec)
        for i in pinned:
            if type(i) is _Record:
                _unpin(i)  # a dead one stays resident, evictable, for the next recompute...
                if (not i.alive and not i.pins and i.op is not None and i.evictable
                        and i.nbytes < _min_size and not _shared(i)):
                    _drop(i)  # ...unless too small to ever be evicted
        stack.pop()


def _shared(rec):
    """Whether a resident view still uses rec's buffer (dropping rec would free nothing)."""
    return rec.views is not None and any(
        v is not None and v.array is not None for v in (r() for r in rec.views))


def _run(rec):
    """Rerun rec's producer on its (resident, pinned) inputs; refill every evicted output."""
    global _clock
    _clock += 1  # a recompute is an op too: what it refills is the freshest
    ins = rec.inputs
    xp = (ins[0].device if ins else rec.device).xp
    arrays = [i.array for i in ins]  # records: resident and pinned; Storages: plain
    attrs = rec.attrs or {}
    t0 = _perf()
    while True:
        try:
            out = rec.op.forward(xp, *arrays, **attrs)
            break
        except MemoryError as e:  # recomputing is when memory is tightest: evict, try again
            _oom(rec.device, e, f"the recompute of {rec.op.__name__}")
    _stats["recompute_seconds"] += _perf() - t0
    _stats["recomputations"] += 1
    if _trace is not None:
        _trace.append(("recompute", rec.op.__name__, rec.nbytes >> 10, id(rec) % 10007, _clock))
    if rec.siblings is None:
        _refill(rec, out)
        return
    refilled = []
    for r, o in zip(rec.siblings, out):
        t = r()
        if t is not None and t.array is None and (t is rec or t.alive):
            _refill(t, o)
            _pin(t)  # refilling the next sibling must not evict this one
            refilled.append(t)
    for t in refilled:
        _unpin(t)  # (not _release: a dead target is for the frame that asked for it to drop)


def _refill(rec, array):
    if isinstance(array, np.generic):
        array = np.asarray(array)
    if rec.base is None:
        _charge(rec.device, rec.nbytes)
        if rec.nbytes and rec.nbytes >= _min_size and rec.evictable:
            _pool[id(rec)] = _weakref(rec)
    _leave(rec)
    rec.array = array
    rec.last = _clock


_orig_storage_init = Storage.__init__


def _counted_storage_init(self, array, device, base=None):
    """Storage.__init__ while DTR is on: plain allocations (tensors made from data, optimizer
    copies) count against the threshold too, evicting records to make room."""
    self.array = array
    self.device = device
    self.base = base
    if base is not None:
        self.nbytes = 0
        return
    n = self.nbytes = array.nbytes
    _charge(device, n)


# ------------------------------------------------------------------ what autograd and Tensor read
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
        watched = self.watched = [s.rec for s, _, _ in node.edges if type(s) is DTRStorage]
        if node.saved:
            watched += [s.rec for s in node.saved if type(s) is DTRStorage]
        self.incoming = [g._storage.rec for g in grads
                         if g is not None and type(g._storage) is DTRStorage]

    def __enter__(self):
        global _held, _backward_id, _backward_count
        for rec in self.watched:
            rec.watch = True
        for rec in self.incoming:
            _pin(rec)
        self.outer = _held, _backward_id
        _backward_count += 1
        _held, _backward_id = [], _backward_count

    def __exit__(self, *exc):
        global _held, _backward_id
        for rec in self.watched:
            rec.watch = False
        for rec in _held + self.incoming:
            _release(rec)
        _held, _backward_id = self.outer


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
        if type(t._storage) is DTRStorage:
            rec = self._pinned[key] = t._storage.rec
            _pin(rec)
        if old is not None:
            _release(old)
        dict.__setitem__(self, key, t)

    def pop(self, key, default=None):
        rec = self._pinned.pop(key, None)
        if rec is not None:
            _release(rec)
        return dict.pop(self, key, default)

    def close(self):
        """Unpin what is left: the attached tensors' gradients (frozen by then) and those no
        node was left to take."""
        for rec in self._pinned.values():
            _release(rec)
        self._pinned.clear()
        dict.clear(self)

    def _unsupported(self, *args, **kwargs):
        raise TypeError("PendingGradients supports get, in, [], []= and pop only")

    __delitem__ = setdefault = update = clear = popitem = _unsupported


def _release(rec):
    """Unpin rec; free it if its last handle went while it was pinned."""
    _unpin(rec)
    _free_if_dead(rec)


def _meta(s):
    """(shape, dtype) of storage s, without recomputing it when evicted."""
    a = s.rec.array if type(s) is DTRStorage else s.array
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
_plain_meta = {}


# ------------------------------------------------------------------------------ the op hook
_orig_apply = core.Op.__dict__["apply"]
_orig_apply_fn = _orig_apply.__func__


def _dtr_apply(cls, *inputs, **attrs):
    global _clock
    _clock += 1
    ins = []
    evicted = False
    for t in inputs:  # pin every input first: recomputing one must not evict another
        s = t._storage
        if type(s) is DTRStorage:
            r = s.rec
            _pin(r)
            if r.array is None:
                evicted = True
            ins.append(r)
        else:
            ins.append(s)
    ins = tuple(ins)
    try:
        if evicted:
            for r in ins:
                if type(r) is _Record and r.array is None:
                    _rematerialize(r)
        t0 = _perf()
        try:
            out = _orig_apply_fn(cls, *inputs, **attrs)
        except MemoryError as e:
            out = _retry_after_oom(cls, inputs, attrs, e)
        cost = _perf() - t0
    finally:
        for r in ins:
            if type(r) is _Record:
                _unpin(r)  # (the caller's Tensors keep their handles alive: none died meanwhile)
    if cls.n_outputs == 1:
        s = out._storage
        if type(s) is DTRStorage:
            _record_producer(s.rec, cls, ins, attrs, None, cost)
        return out
    recs = [t._storage.rec for t in out if type(t._storage) is DTRStorage]
    siblings = tuple(_weakref(r) for r in recs)
    for rec in recs:
        _record_producer(rec, cls, ins, attrs, siblings, cost)
    return out


def _retry_after_oom(cls, inputs, attrs, error):
    """The device ran out of memory in cls's forward (numpy's or CuPy's MemoryError): evict and
    try again, until it fits or _oom says nothing is left."""
    while True:
        if not inputs:
            raise error
        _oom(inputs[0]._storage.device, error, cls.__name__)
        try:
            return _orig_apply_fn(cls, *inputs, **attrs)
        except MemoryError as e:
            error = e


def _record_producer(rec, cls, ins, attrs, siblings, cost):
    if rec.op is not None or rec in ins:  # an input handed back, or a value from elsewhere
        return
    rec.op, rec.inputs, rec.attrs, rec.siblings, rec.cost = cls, ins, attrs, siblings, cost
    rec.backward_id = _backward_id
    me = _weakref(rec)
    for r in ins:
        if type(r) is _Record:
            c = r.consumers
            if c is None:
                r.consumers = [me]
            else:
                c.append(me)
                n = len(c)
                if n >= 32 and not n & (n - 1):  # at each power of two: forget the dead ones
                    r.consumers = [w for w in c if w() is not None]


class _Alias:
    """Producer of a detached view: the same buffer as its input."""

    n_outputs = 1

    @staticmethod
    def forward(xp, x):
        return x


class _RandomReplay:
    """Producer of a random tensor: redraws it from the generator state it was drawn with."""

    n_outputs = 1

    @staticmethod
    def forward(xp, state, method, args):
        bits = np.random.PCG64()
        bits.state = state
        a = getattr(np.random.Generator(bits), method)(*args).astype(np.float32)
        return a if xp is np else xp.asarray(a)


def make_replayable(t, state, method, args):
    """Give random tensor t (drawn with `method(*args)` from generator `state`) a producer."""
    old = t._storage
    s = DTRStorage.__new__(DTRStorage)
    s.device, s.base = old.device, None
    rec = s.rec = _Record(old.array, old.device, charge=False)  # takes over old's bytes
    s.nbytes, old.nbytes = rec.nbytes, 0
    rec.op, rec.attrs = _RandomReplay, dict(state=state, method=method, args=args)
    t._storage = s


def active():
    return _enabled


# ---------------------------------------------------------------------------------- the API
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(value, name="eviction_threshold"):
    """Bytes from an int or a string like "2GB", "512 MiB", "1.5g" (1024-based)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"dtr: {name} must be non-negative, got {value}")
        return int(value)
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            return int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    raise ValueError(f"dtr: {name} must be a byte count (int) or a string like '2GB', "
                     f"'512MB', '1.5GiB', got {value!r}")


class _DTRConfig:
    """`mge.dtr`: call it (or use it as a context manager) to turn DTR on."""

    def __call__(self, eviction_threshold=None, evictee_minimum_size=None,
                 enable_sqrt_sampling=None):
        if eviction_threshold is not None:
            self.eviction_threshold = eviction_threshold
        if evictee_minimum_size is not None:
            self.evictee_minimum_size = evictee_minimum_size
        if enable_sqrt_sampling is not None:
            self.enable_sqrt_sampling = enable_sqrt_sampling
        self.enable()
        return self

    def __enter__(self):
        self.enable()
        return self

    def __exit__(self, *exc):
        self.disable()

    @property
    def eviction_threshold(self):
        return _threshold

    @eviction_threshold.setter
    def eviction_threshold(self, value):
        global _threshold
        _threshold = parse_size(value, "eviction_threshold")
        _allowance.clear()  # a new threshold: whether it can be met is measured afresh

    @property
    def evictee_minimum_size(self):
        return _min_size

    @evictee_minimum_size.setter
    def evictee_minimum_size(self, value):
        global _min_size
        _min_size = parse_size(value, "evictee_minimum_size")

    @property
    def enable_sqrt_sampling(self):
        return _sqrt_sampling

    @enable_sqrt_sampling.setter
    def enable_sqrt_sampling(self, value):
        global _sqrt_sampling
        _sqrt_sampling = bool(value)

    @property
    def enabled(self):
        return _enabled

    def enable(self):
        global _enabled
        if not _enabled:
            _allowance.clear()
            core.Op.apply = classmethod(_dtr_apply)
            core.apply_hooks += 1
            core.Storage = allocator.Storage = DTRStorage
            Storage.__init__ = _counted_storage_init
            from .tensor import Tensor
            _plain_meta.update((k, Tensor.__dict__[k]) for k in _TENSOR_META)
            for k, prop in _TENSOR_META.items():
                setattr(Tensor, k, prop)
            _enabled = True

    def disable(self):
        """Back to the plain op path. Storages already evicted still rematerialise on access."""
        global _enabled
        if _enabled:
            core.Op.apply = _orig_apply
            core.apply_hooks -= 1
            core.Storage = allocator.Storage = Storage
            Storage.__init__ = _orig_storage_init
            from .tensor import Tensor
            for k, prop in _plain_meta.items():
                setattr(Tensor, k, prop)
            _enabled = False

    def stats(self):
        """evictions, recomputations, recompute_seconds, evicted_bytes, and over_budget (times
        nothing evictable was left while over the threshold)."""
        return dict(_stats)

    def reset_stats(self):
        for k in _stats:
            _stats[k] = 0.0 if k == "recompute_seconds" else 0

    def __repr__(self):
        return (f"dtr(enabled={_enabled}, eviction_threshold={_threshold}, "
                f"evictee_minimum_size={_min_size}, enable_sqrt_sampling={_sqrt_sampling})")


dtr = _DTRConfig()
