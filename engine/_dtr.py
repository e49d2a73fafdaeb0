"""DTR: dynamic tensor rematerialization (Kirisame et al., ICLR 2021) in the allocator.

    mge.dtr(eviction_threshold="2GB")            # on; or `with mge.dtr(...):`
    mge.dtr.disable(); mge.dtr.stats()

How it hooks in, at zero cost while off: `enable()` swaps three names - `Op.apply` (a wrapper
that pins the inputs, rematerialises evicted ones, times the op and records the producer on its
outputs) and the `Storage` class that core.py and allocator.py allocate op results with (a
DTRStorage). Nothing else on the hot path changes, so with DTR off an op costs what it did.

DTRStorage keeps the base class's `array` slot but shadows it with a property: reading an
evicted storage's array (slot None) rematerialises it, so every access point (Op.apply, Tensor
shape/numpy/_host, the tape's saved tensors, the optimizer) sees the value it would without DTR.
Plain Storages (parameters, optimizer state, user tensors) keep the plain slot and are never
evicted.

Recompute is iterative (an explicit stack) and pins every input of the op it reruns. Random
numbers (engine.random) remember the generator state they were drawn with and replay it, so
dropout masks come back bit-identical. Results of in-place updates (`Tensor._reset`, optimizer
`writable_array`) are frozen: resident for good, their producer forgotten.

On the CPU the output array exists before it is accounted for (numpy allocates inside forward), so
eviction happens when the output's Storage is created, before its bytes count: live bytes stay
under threshold + the largest request. A GPU backend hooks in at `_make_room` (call it with the
failed request's size when CuPy raises OutOfMemoryError, then retry the forward).
"""
import math
import random as _pyrandom
import re
import sys
import time
import weakref

import numpy as np

from . import allocator
from .allocator import Storage
from .ops import core

_slot = Storage.__dict__["array"]  # the base class's slot: raw access, no rematerialisation
_slot_get = _slot.__get__
_slot_set = _slot.__set__
_getrefcount = sys.getrefcount
_perf = time.perf_counter

_enabled = False
_threshold = 0          # bytes; 0 = no threshold on the CPU
_min_size = 1 << 20     # evictee_minimum_size
_sqrt_sampling = False
_clock = 0              # one tick per op: staleness is measured in ops
_pool = {}              # id -> weakref of every resident DTRStorage big enough to evict
_sampler = _pyrandom.Random(0)  # picks sqrt(N) candidates; never touches values
_stats = dict(evictions=0, recomputations=0, recompute_seconds=0.0, evicted_bytes=0,
              over_budget=0)


class DTRStorage(Storage):
    """A Storage that knows its producer (op, input storages, attrs, output index) and can be
    evicted (array slot None) and rematerialised on access."""

    __slots__ = ("op", "inputs", "attrs", "idx", "siblings", "cost", "last", "pins",
                 "evictable", "views", "ndeps")

    def __init__(self, array, device, base=None):
        _slot_set(self, array)
        self.device = device
        self.base = base
        self.op = None
        self.inputs = ()
        self.attrs = None
        self.idx = 0
        self.siblings = None  # weakrefs to all outputs of a multi-output op
        self.cost = 0.0
        self.last = _clock
        self.pins = 0
        self.evictable = True
        self.views = None     # weakrefs to view storages sharing this one's array
        self.ndeps = 0        # how many DTRStorages hold this one as a producer input
        if base is not None:
            self.nbytes = 0
            if type(base) is DTRStorage:
                if base.views is None:
                    base.views = []
                base.views.append(weakref.ref(self))
            return
        n = self.nbytes = array.nbytes
        _charge(device, n)
        if n >= _min_size:
            _pool[id(self)] = weakref.ref(self)

    def _get_array(self):
        a = _slot_get(self)
        if a is None:
            a = _rematerialize(self)
        self.last = _clock
        return a

    array = property(_get_array, _slot_set)

    @property
    def resident(self):
        return _slot_get(self) is not None

    def freeze(self):
        """Make this storage a plain value: resident for good, its producer forgotten (results of
        in-place updates, which a recompute from the old inputs would get wrong)."""
        self.array  # noqa: B018  (rematerialise first)
        self.evictable = False
        _drop_inputs(self)
        self.op = None
        self.attrs = None
        _pool.pop(id(self), None)

    def __del__(self):
        try:
            if self.nbytes and _slot_get(self) is not None:
                self.device.live -= self.nbytes
            _pool.pop(id(self), None)
            _drop_inputs(self)
        except (AttributeError, TypeError):  # interpreter shutdown
            pass


def _drop_inputs(s):
    for i in s.inputs:
        if type(i) is DTRStorage:
            i.ndeps -= 1
    s.inputs = ()


# ------------------------------------------------------------------ accounting and eviction
def _charge(device, n):
    """Count n new bytes on device, evicting first when they would pass the threshold."""
    if _enabled and _threshold and device.live + n > _threshold:
        _make_room(device, n)
    live = device.live = device.live + n
    if live > device.peak:
        device.peak = live


def _make_room(device, need):
    """Evict until live + need fits the threshold, or nothing evictable is left (counted)."""
    over = device.live + need - _threshold
    while over > 0:
        s = _pick(device)
        if s is None:
            _stats["over_budget"] += 1
            return
        over -= s.nbytes
        _evict(s)


def _refs(s):
    return _getrefcount(s)


def _calibrate():
    s = DTRStorage.__new__(DTRStorage)
    return _refs(s)


_UNREFERENCED = _calibrate()  # what _refs shows for a storage held by one local only


def _pick(device):
    """The resident, unpinned, recomputable storage with the lowest
    h = (cost + cost of its evicted inputs) / (bytes * staleness); storages nobody but other
    storages' producer links holds (dead to the user) go first."""
    refs = list(_pool.values())
    if _sqrt_sampling and len(refs) > 16:
        refs = _sampler.sample(refs, math.isqrt(len(refs)) + 1) + [None] + refs
    best, best_h = None, math.inf
    for r in refs:
        if r is None:  # end of the sample: the full list follows, only if the sample found none
            if best is not None:
                break
            continue
        s = r()
        if (s is None or s.device is not device or s.op is None or not s.evictable or s.pins
                or _slot_get(s) is None):
            continue
        if _refs(s) - _UNREFERENCED <= s.ndeps:
            return s
        h = _class_cost(s) / (s.nbytes * (_clock - s.last + 1))
        if h < best_h:
            best, best_h = s, h
    return best


def _class_cost(s, limit=32):
    """s's cost plus that of the evicted ancestors that would be recomputed with it (the
    paper's evicted-neighbourhood approximation, walked up to `limit` storages)."""
    cost = s.cost
    todo = [i for i in s.inputs if type(i) is DTRStorage]
    seen = 0
    while todo and seen < limit:
        i = todo.pop()
        seen += 1
        if _slot_get(i) is None:
            cost += i.cost
            todo.extend(j for j in i.inputs if type(j) is DTRStorage)
    return cost


def _evict(s):
    _pool.pop(id(s), None)  # the pool holds resident storages only: scans stay short
    _slot_set(s, None)
    s.device.live -= s.nbytes
    _stats["evictions"] += 1
    _stats["evicted_bytes"] += s.nbytes
    if s.views:
        alive = []
        for r in s.views:
            v = r()
            if v is not None:
                _slot_set(v, None)  # a view's array would keep the evicted buffer alive
                alive.append(r)
        s.views = alive


def _pin(s):
    s.pins += 1
    if type(s.base) is DTRStorage:
        s.base.pins += 1


def _unpin(s):
    s.pins -= 1
    if type(s.base) is DTRStorage:
        s.base.pins -= 1


# ------------------------------------------------------------------------- rematerialisation
def _rematerialize(target):
    """Recompute an evicted storage; evicted inputs first, with an explicit stack (a network a
    thousand layers deep needs no Python recursion). Each frame pins the inputs it has made
    resident, so that recomputing the next input cannot evict them again."""
    if target.op is None:
        raise RuntimeError("DTR: an evicted storage has no producer to recompute it from")
    stack = [(target, [])]
    while stack:
        s, pinned = stack[-1]
        pending = None
        if _slot_get(s) is None:
            for i in s.inputs[len(pinned):]:
                if type(i) is DTRStorage:
                    if _slot_get(i) is None:
                        pending = i
                        break
                    _pin(i)
                pinned.append(i)
            if pending is not None:
                stack.append((pending, []))
                continue
            _run(s)
        for i in pinned:
            if type(i) is DTRStorage:
                _unpin(i)
        stack.pop()
    return _slot_get(target)


def _run(s):
    """Rerun s's producer on its (resident, pinned) inputs; refill every evicted output."""
    global _clock
    _clock += 1  # a recompute is an op too: what it refills is the freshest
    ins = s.inputs
    xp = (ins[0].device if ins else s.device).xp
    arrays = [_slot_get(i) if type(i) is DTRStorage else i.array for i in ins]
    t0 = _perf()
    out = s.op.forward(xp, *arrays, **s.attrs) if s.attrs else s.op.forward(xp, *arrays)
    _stats["recompute_seconds"] += _perf() - t0
    _stats["recomputations"] += 1
    if s.siblings is None:
        _refill(s, out)
        return
    for r, o in zip(s.siblings, out):
        t = r()
        if t is not None and _slot_get(t) is None:
            _refill(t, o)


def _refill(s, array):
    if isinstance(array, np.generic):
        array = np.asarray(array)
    if s.base is None:
        _charge(s.device, s.nbytes)
        if s.nbytes >= _min_size and s.evictable:
            _pool[id(s)] = weakref.ref(s)
    _slot_set(s, array)
    s.last = _clock


# ------------------------------------------------------------------------------ the op hook
_orig_apply = core.Op.__dict__["apply"]
_orig_apply_fn = _orig_apply.__func__


def _dtr_apply(cls, *inputs, **attrs):
    global _clock
    _clock += 1
    ins = tuple(t._storage for t in inputs)
    for s in ins:
        if type(s) is DTRStorage:
            _pin(s)
    try:
        for s in ins:
            if type(s) is DTRStorage and _slot_get(s) is None:
                _rematerialize(s)
        t0 = _perf()
        out = _orig_apply_fn(cls, *inputs, **attrs)
        cost = _perf() - t0
    finally:
        for s in ins:
            if type(s) is DTRStorage:
                _unpin(s)
    outs = out if cls.n_outputs != 1 else (out,)
    siblings = tuple(weakref.ref(t._storage) for t in outs) if len(outs) > 1 else None
    for i, t in enumerate(outs):
        s = t._storage
        if type(s) is not DTRStorage or s.op is not None or s in ins:
            continue
        s.op, s.inputs, s.attrs, s.idx, s.siblings, s.cost = cls, ins, attrs, i, siblings, cost
        for x in ins:
            if type(x) is DTRStorage:
                x.ndeps += 1
    return out


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
    DTRStorage.__init__(s, old.array, old.device, base=old)  # counts no bytes...
    s.base, s.nbytes, old.nbytes = None, old.nbytes, 0      # ...then takes over old's
    s.views = None
    if s.nbytes >= _min_size:
        _pool[id(s)] = weakref.ref(s)
    s.op, s.attrs = _RandomReplay, dict(state=state, method=method, args=args)
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
            core.Op.apply = classmethod(_dtr_apply)
            core.Storage = allocator.Storage = DTRStorage
            _enabled = True

    def disable(self):
        """Back to the plain op path. Storages already evicted still rematerialise on access."""
        global _enabled
        if _enabled:
            core.Op.apply = _orig_apply
            core.Storage = allocator.Storage = Storage
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
