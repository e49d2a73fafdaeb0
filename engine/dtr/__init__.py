"""DTR: dynamic tensor rematerialization (Kirisame et al., ICLR 2021) in the allocator.

    mge.dtr(eviction_threshold="2GB")            # on; or `with mge.dtr(...):`
    mge.dtr.disable(); mge.dtr.stats()

How it hooks in, at zero cost while off: `enable()` swaps a few names (hooks.install; disable
puts back exactly what was there) - `Op.apply` (a wrapper
that pins the inputs, rematerialises evicted ones, times the op and records the producer on its
outputs), the `Storage` class that core.py and allocator.py allocate op results with (a
DTRStorage), `Storage.__init__` (so that plain allocations count against the threshold too),
and Tensor's shape/dtype/ndim/size (read from the record while evicted: a shape query never
recomputes). The GradManager's sweep runs each node's backward in node_backward and keeps
its waiting gradients in PendingGradients: gradients are never evicted (see there why). With
DTR off an op costs what it did.

Two objects per op result, MegEngine's split between a tensor handle and its TensorInfo:
- a `Record` holds the array (None while evicted), its bytes and its producer (op, input
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
cannot be met even by evicting everything is soft (see policy.charge). Recompute is iterative (an
explicit stack) and pins the inputs of every op it reruns; dead inputs it had to recompute that
are too small for the pool are dropped again right after.

Debugging: set `engine.dtr.state.trace` to a list to collect the evict/recompute events.

The package: state (settings, clock, pool, statistics), storage (Record, DTRStorage, pins),
policy (accounting against the threshold, the victim's score, out of memory), recompute
(rematerialisation, the producers of detached and random values), hooks (the Op.apply wrapper,
the autograd hooks, install/uninstall) and config (this module's own class: the API).
"""
import sys

from . import config, hooks, policy, recompute, state, storage  # noqa: F401

sys.modules[__name__].__class__ = config.DTRModule
