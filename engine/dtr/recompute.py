"""Rematerialisation: recompute an evicted record from its producer, evicted inputs first on an
explicit stack, pinning what each frame has made resident; and the producers DTR gives values
that no op made (detached views, random draws)."""
import time
import weakref

import numpy as np

from . import policy, storage
from . import state as S

_perf = time.perf_counter
_weakref = weakref.ref


def rematerialize(target):
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
                if type(i) is storage.Record:
                    storage.release(i)
        raise
    return target.array


def _recompute_stack(stack):
    while stack:
        rec, pinned = stack[-1]
        pending = None
        if rec.array is None:
            for i in rec.inputs[len(pinned):]:
                if type(i) is storage.Record:
                    if i.array is None:
                        pending = i
                        break
                    storage.pin(i)
                pinned.append(i)
            if pending is not None:
                stack.append((pending, []))
                continue
            _run(rec)
        for i in pinned:
            if type(i) is storage.Record:
                storage.unpin(i)  # a dead one stays resident, evictable, for the next recompute...
                if (not i.alive and not i.pins and i.op is not None and i.evictable
                        and i.nbytes < S.min_size and not _shared(i)):
                    storage.drop(i)  # ...unless too small to ever be evicted
        stack.pop()


def _shared(rec):
    """Whether a resident view still uses rec's buffer (dropping rec would free nothing)."""
    return rec.views is not None and any(
        v is not None and v.array is not None for v in (r() for r in rec.views))


def _run(rec):
    """Rerun rec's producer on its (resident, pinned) inputs; refill every evicted output."""
    S.clock += 1  # a recompute is an op too: what it refills is the freshest
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
            policy.oom(rec.device, e, f"the recompute of {rec.op.__name__}")
    S.stats["recompute_seconds"] += _perf() - t0
    S.stats["recomputations"] += 1
    if S.trace is not None:
        S.trace.append(("recompute", rec.op.__name__, rec.nbytes >> 10, id(rec) % 10007, S.clock))
    if rec.siblings is None:
        refill(rec, out)
        return
    refilled = []
    for r, o in zip(rec.siblings, out):
        t = r()
        if t is not None and t.array is None and (t is rec or t.alive):
            refill(t, o)
            storage.pin(t)  # refilling the next sibling must not evict this one
            refilled.append(t)
    for t in refilled:
        # (not storage.release: a dead target is for the frame that asked for it to drop)
        storage.unpin(t)


def refill(rec, array):
    if isinstance(array, np.generic):
        array = np.asarray(array)
    if rec.base is None:
        policy.charge(rec.device, rec.nbytes)
        if rec.nbytes and rec.nbytes >= S.min_size and rec.evictable:
            S.pool[id(rec)] = _weakref(rec)
    policy.leave(rec)
    rec.array = array
    rec.last = S.clock


class Alias:
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
    s = storage.DTRStorage.__new__(storage.DTRStorage)
    s.device, s.base = old.device, None
    rec = s.rec = storage.Record(old.array, old.device, charge=False)  # takes over old's bytes
    s.nbytes, old.nbytes = rec.nbytes, 0
    rec.op, rec.attrs = _RandomReplay, dict(state=state, method=method, args=args)
    t._storage = s
