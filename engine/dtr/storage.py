"""What DTR keeps per op result: a Record (the array, None while evicted, and its producer) and
the DTRStorage handle that Tensors and the tape hold, whose `array` rematerialises on access;
pinning, and the counted Storage.__init__ that plain allocations get while DTR is on."""
import weakref

from ..allocator import Storage
from . import policy, recompute
from . import state as S

_weakref = weakref.ref


class Record:
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
        self.last = S.clock
        self.pins = 0
        self.evictable = True
        self.alive = True         # a handle (a Tensor or the tape) can still read it
        self.views = None         # weakrefs to view records sharing this one's buffer
        self.group = None         # while evicted: its policy.Group of connected evicted records
        self.meta = None          # while evicted: (shape, dtype), read without recomputing
        self.watch = False        # an input or saved output of the node whose backward runs
        self.backward_id = 0      # the hooks.node_backward it was made in, if any
        if view:
            self.nbytes = 0       # the bytes are counted once, on the base
            if base is not None:  # (a view of a plain Storage: its buffer is never evicted)
                if base.views is None:
                    base.views = []
                base.views.append(_weakref(self))
            return
        n = self.nbytes = array.nbytes
        if charge:
            policy.charge(device, n)
        if n and n >= S.min_size:
            S.pool[id(self)] = _weakref(self)

    def __del__(self):
        try:
            if self.nbytes and self.array is not None:
                self.device.live -= self.nbytes
            S.pool.pop(id(self), None)
            if self.group is not None:
                policy.find(self.group).cost -= self.cost
        except (AttributeError, TypeError):  # interpreter shutdown
            pass


class DTRStorage(Storage):
    """The handle of a Record: what Tensors and the autograd tape hold (see the docstring)."""

    __slots__ = ("rec",)

    def __init__(self, array, device, base=None):
        self.device = device
        self.base = base
        rec = self.rec = Record(array, device, base.rec if type(base) is DTRStorage else None,
                                 view=base is not None)
        self.nbytes = rec.nbytes

    def _get_array(self):
        rec = self.rec
        a = rec.array
        if a is None:
            a = recompute.rematerialize(rec)
        if rec.watch:  # the running node backward reads it: keep it until that ends
            rec.watch = False
            pin(rec)
            S.held.append(rec)
        rec.last = S.clock
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
            recompute.rematerialize(rec)
        rec.evictable = False
        rec.op = rec.attrs = None
        rec.inputs = ()
        S.pool.pop(id(rec), None)

    def detached(self):
        """A handle sharing this value outside autograd (Tensor.detach), recomputable."""
        a = DTRStorage(self.array, self.device, base=self.base or self)
        a.rec.op, a.rec.inputs = recompute.Alias, (self.rec,)
        return a

    def __del__(self):
        # The last handle: nobody can read the value any more. Free it now, as plain training
        # would; the record lives on only while other records may need it to recompute.
        try:
            rec = self.rec
            rec.alive = False
            free_if_dead(rec)
        except (AttributeError, TypeError):  # interpreter shutdown
            pass


def free_if_dead(rec):
    """Free the buffer of a record no handle can read any more, unless pinned. (One with no
    consumer is not needed for any recompute: it goes, and its bytes, with the record.)"""
    if (not rec.alive and not rec.pins and rec.consumers is not None and rec.array is not None
            and rec.op is not None and rec.evictable):
        drop(rec)


def forget_array(rec):
    """Let go of rec's array, remembering its shape and dtype (Tensor.shape reads them)."""
    a = rec.array
    if a is not None:
        rec.meta = (a.shape, a.dtype)
        rec.array = None


def drop(rec):
    """Release rec's buffer (and clear the views that would keep it alive)."""
    S.pool.pop(id(rec), None)
    forget_array(rec)
    policy.join(rec)
    if rec.nbytes:
        rec.device.live -= rec.nbytes
    if rec.views:
        alive = []
        for r in rec.views:
            v = r()
            if v is not None:
                forget_array(v)
                policy.join(v)
                alive.append(r)
        rec.views = alive


def pin(rec):
    rec.pins += 1
    if rec.base is not None:
        rec.base.pins += 1


def unpin(rec):
    rec.pins -= 1
    if rec.base is not None:
        rec.base.pins -= 1


def release(rec):
    """Unpin rec; free it if its last handle went while it was pinned."""
    unpin(rec)
    free_if_dead(rec)


def counted_storage_init(self, array, device, base=None):
    """Storage.__init__ while DTR is on: plain allocations (tensors made from data, optimizer
    copies) count against the threshold too, evicting records to make room."""
    self.array = array
    self.device = device
    self.base = base
    if base is not None:
        self.nbytes = 0
        return
    n = self.nbytes = array.nbytes
    policy.charge(device, n)
