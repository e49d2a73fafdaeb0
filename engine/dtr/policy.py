"""When and what DTR evicts: the byte accounting against eviction_threshold, the victim with
the lowest h = cost / (bytes * staleness) (its cost counting the evicted groups it would join:
the paper's equivalence classes, kept as union-find), and the out-of-memory path."""
import math
import re

import numpy as np

from . import state as S
from . import storage


class Group:
    """A set of connected evicted records (union-find) and what recomputing all of it costs:
    the paper's equivalence classes, which price an eviction by the evicted neighbourhood it
    would join."""

    __slots__ = ("parent", "cost")

    def __init__(self, cost):
        self.parent = None
        self.cost = cost


def find(g):
    while g.parent is not None:
        p = g.parent
        if p.parent is not None:
            g.parent = p.parent  # path halving
        g = p
    return g


def evicted_groups(rec):
    """The distinct evicted groups (roots) that rec's producers and consumers belong to."""
    roots = []
    for n in rec.inputs:
        if type(n) is storage.Record and n.group is not None:
            g = find(n.group)
            if g not in roots:
                roots.append(g)
    if rec.consumers:
        for r in rec.consumers:
            n = r()
            if n is not None and n.group is not None:
                g = find(n.group)
                if g not in roots:
                    roots.append(g)
    return roots


def join(rec):
    """rec was just evicted: it joins the groups of its evicted producers and consumers."""
    if rec.op is None or rec.group is not None:
        return
    root = Group(rec.cost)
    for g in evicted_groups(rec):
        g.parent = root
        root.cost += g.cost
    rec.group = root


def leave(rec):
    """rec is resident again: its recompute no longer counts in its group."""
    if rec.group is not None:
        find(rec.group).cost -= rec.cost
        rec.group = None


def charge(device, n):
    """Count n new bytes on device, evicting first when they would pass the threshold.

    When even evicting everything evictable cannot make room (what the running ops hold is more
    than the threshold), the threshold is soft: the live bytes of that moment become the limit
    until usage falls back under the threshold. Evicting down to it anyway would only evict what
    the next ops read and recompute it, over and over."""
    live = device.live
    if S.enabled and S.threshold and live + n > S.threshold:
        allowance = S.allowance.get(device, 0)
        if live + n <= S.threshold + allowance:
            pass
        elif free(device, live + n - S.threshold - allowance):
            pass
        else:
            S.stats["over_budget"] += 1
            S.allowance[device] = live + n - S.threshold
    elif S.allowance and live + n <= S.threshold:
        S.allowance.pop(device, None)
    live = device.live = device.live + n
    if live > device.peak:
        device.peak = live


def free(device, need, partial=False):
    """Evict until `need` bytes are freed on device; False when not enough is evictable. Then,
    unless `partial` (a failed allocation, where any freed block may help), nothing is evicted:
    going over the threshold is the cheaper failure than evicting what the next ops need."""
    if not partial and pool_bytes(device)[1] < need:
        return False
    while need > 0:
        rec = pick(device)
        if rec is None and partial:  # the device is full: what a node backward made can go too
            rec = pick(device, protect_backward=False)
        if rec is None:
            return False
        need -= rec.nbytes
        evict(rec)
    return True


def is_candidate(rec, device, protect_backward=True):
    """Whether rec (a dereferenced pool entry) can be evicted from device now. Unless the device
    is out of memory, not what the running node backward has made so far (hooks.node_backward)."""
    return (rec is not None and not rec.pins and rec.op is not None and rec.device is device
            and rec.array is not None
            and not (protect_backward and rec.backward_id and rec.backward_id == S.backward_id))


def pool_bytes(device):
    """(pinned, evictable) resident bytes of the pool's records on device."""
    pinned = evictable = 0
    for r in list(S.pool.values()):
        rec = r()
        if is_candidate(rec, device):
            evictable += rec.nbytes
        elif rec is not None and rec.pins and rec.device is device and rec.array is not None:
            pinned += rec.nbytes
    return pinned, evictable


def pick(device, protect_backward=True):
    """The resident, unpinned, recomputable record with the lowest
    h = cost of its evicted neighbourhood / (bytes * staleness)."""
    refs = list(S.pool.values())
    if S.sqrt_sampling and len(refs) > 16:
        refs = S.sampler.sample(refs, math.isqrt(len(refs)) + 1) + [None] + refs
    best, best_h, clock = None, math.inf, S.clock
    for r in refs:
        if r is None:  # end of the sample: the full list follows, only if the sample found none
            if best is not None:
                break
            continue
        rec = r()
        if not is_candidate(rec, device, protect_backward):
            continue
        h = neighbourhood_cost(rec) / (rec.nbytes * (clock - rec.last + 1))
        if h < best_h:
            best, best_h = rec, h
    return best


def neighbourhood_cost(rec):
    """rec's cost plus that of the evicted groups it touches: what evicting it adds to a later
    recompute (the paper's equivalence-class heuristic)."""
    cost = rec.cost
    for g in evicted_groups(rec):
        cost += g.cost
    return cost


def evict(rec):
    if S.trace is not None:
        S.trace.append(("evict", rec.op.__name__, rec.nbytes >> 10, id(rec) % 10007, S.clock))
    storage.drop(rec)
    S.stats["evictions"] += 1
    S.stats["evicted_bytes"] += rec.nbytes


def oom(device, error, where):
    """The device ran out of memory in `where`: evict at least the failed request. MemoryError,
    with what is live, pinned and evictable, when nothing is left to evict."""
    need = requested_bytes(error)
    if not S.enabled or not free(device, need, partial=True):
        pinned, evictable = pool_bytes(device)
        raise MemoryError(
            f"DTR: out of memory on {device} in {where}: requested {need} bytes; live "
            f"{device.live} bytes, of which {pinned} pinned (in use by the running op or "
            f"backward, or gradients waiting for their node) and "
            f"{evictable} evictable (nothing left to evict); ({error})") from error
    if device.xp is not np:  # freed blocks go back to CuPy's pool; hand them to the driver
        device.xp.get_default_memory_pool().free_all_blocks()


_ALLOCATING = re.compile(r"allocating ([\d,]+) bytes")


def requested_bytes(error):
    """The size of the failed allocation, from the error: numpy's _ArrayMemoryError has it in
    _total_size, CuPy's OutOfMemoryError only in its message ("Out of memory allocating
    1,048,576 bytes ..."); 1 when it does not say."""
    n = getattr(error, "hooks._size", None) or getattr(error, "_total_size", None)
    if n:
        return n
    m = _ALLOCATING.search(str(error))
    return int(m.group(1).replace(",", "")) if m else 1
