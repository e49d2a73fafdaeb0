"""GradManager: MegEngine's autograd tape (engine.autodiff.grad_manager, MegEngine's path).

Why attach comes first: while a GradManager records, an op creates a graph node only when one of
its inputs is attached (or was computed from an attached tensor). Attaching after the ops ran
cannot recover them, so attach the parameters once, before the loop, and record each step:

    gm = GradManager().attach(model.parameters())
    for x, y in data:
        with gm:                      # record() ... release()
            loss = loss_fn(model(x), y)
            gm.backward(loss)         # grads accumulate into p.grad; the tape is released
        opt.step().clear_grad()

Nothing is kept when no GradManager records: inference allocates no graph. The graph hangs off
the tensors themselves (each output points at the Node that made it), so it is freed with them.
Backward ops are ordinary ops: a GradManager that started recording before this one (an outer
`with`) records this one's backward pass, which gives higher-order gradients. As in MegEngine,
an inner manager does not record an outer one's backward, nor do the members of one group
(`with gm1 | gm2:`) record each other's.
"""
import contextlib
import heapq
import itertools
import weakref

from .. import dtype as _dt
from ..allocator import Storage
from ..dtr import hooks as _dtr
from ..ops import core
from ..tensor import Tensor

# Backward sweeps running now. engine.amp's autocast casts the inputs of forward ops only: a
# backward formula works in the dtypes its forward produced.
backward_depth = 0


def _key(t):
    """Identity of a value in the graph: (producing node or LeafNode, output index); None for a
    tensor outside any graph (it can neither receive nor pass on a gradient)."""
    return None if t._node is None else (t._node, t._idx)


# Recording GradManagers -> the rank of their recording (its start order). A backward is recorded
# only by managers that started recording earlier (outer ones, rank lower), as in MegEngine:
# an inner manager does not see the backward of an outer one, nor members of one group
# (`with gm1 | gm2:`, one rank) each other's.
_active = {}
_ranks = itertools.count()
_backwarding = []   # GradManagers whose backward is running, innermost last


def get_backwarding_grad_manager():
    """The GradManager whose backward is running now (its gradient callbacks run inside)."""
    return _backwarding[-1] if _backwarding else None


def _keep_for_backward(t, only_if_attached=True):
    """Make `t` (an output that left this process) a root of the recording managers' next
    backward: its gradient arrives from a peer (engine.distributed).

    only_if_attached: only the managers whose attached tensors `t` was computed from (MegEngine
    asks `_is_attached_to`): another recording manager's backward must not run the peer's
    exchange a second time. False for a received tensor, which every recording manager keeps
    so that its backward answers the sender.
    """
    for gm in _active:
        if not only_if_attached or _computed_from_attached(t, gm):
            gm._remote_roots.append(t)


def _computed_from_attached(t, gm):
    leaves = {entry[2] for entry in gm._attached.values()}
    stack, seen = [t._node], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        if node in leaves:
            return True
        seen.add(node)
        stack.extend(n for _, n, _ in node.edges)
    return False


class _AttachDtypeError(TypeError, AssertionError):
    """attach of a non-float tensor: a TypeError; AssertionError is what MegEngine raises."""


class GradManager:
    """Records the operations on attached tensors and computes their gradients (MegEngine's
    autograd tape).

    Attach the tensors to differentiate first (:meth:`attach`, usually the model's parameters,
    once); then, for each step, record inside ``with gm:`` (or :meth:`record` ...
    :meth:`release`) and call :meth:`backward`, which adds d(y)/d(tensor) to each attached
    tensor's ``.grad`` and releases the recording. Gradients accumulate across backwards until
    they are cleared (``opt.clear_grad()`` or ``tensor.grad = None``). A GradManager that is
    still recording while another one runs backward records that backward pass too, which
    gives higher-order gradients.

    Examples:
        >>> from engine.autodiff import GradManager
        >>> x = mge.Parameter([1., 2., 3.])
        >>> gm = GradManager().attach(x)
        >>> with gm:
        ...     y = (x * x).sum()
        ...     gm.backward(y)
        >>> x.grad.numpy()
        array([2., 4., 6.], dtype=float32)
        >>> with gm:
        ...     gm.backward((3 * x).sum())
        >>> x.grad.numpy()
        array([5., 7., 9.], dtype=float32)

        A callback rewrites the gradient before it is accumulated:

        >>> x.grad = None
        >>> gm = GradManager().attach(x, callbacks=lambda tensor, grad: grad * 0.5)
        >>> with gm:
        ...     gm.backward((2 * x).sum())
        >>> x.grad.numpy()
        array([1., 1., 1.], dtype=float32)

        Nested GradManagers give the second derivative of w ** 3 (6 w):

        >>> w = mge.Parameter([3.])
        >>> outer, inner = GradManager().attach(w), GradManager().attach(w)
        >>> with outer:
        ...     with inner:
        ...         inner.backward(w ** 3)
        ...     first = w.grad
        ...     w.grad = None
        ...     outer.backward(first)
        >>> first.numpy(), w.grad.numpy()
        (array([27.], dtype=float32), array([18.], dtype=float32))
    """

    def __init__(self):
        self._attached = {}     # id(tensor) -> (weakref to tensor, [callbacks], its LeafNode)
        self._recording = False
        # outputs whose value left this process (engine.distributed: remote_send, a reduce or
        # gather on a non-root rank): extra roots of backward, whose gradient comes from a peer
        self._remote_roots = []
        self._after_backward = []   # callables run once the gradients are all computed

    # ------------------------------------------------------------- attaching
    def attach(self, tensors, callbacks=None):
        """Track `tensors` (one or an iterable): backward computes their gradients.

        callbacks: a callable or a list of them, `cb(tensor, grad) -> grad`, applied in order
        to the gradient before it is accumulated into `tensor.grad`.
        """
        if isinstance(tensors, Tensor):
            tensors = [tensors]
        if callbacks is None:
            callbacks = []
        elif callable(callbacks):
            callbacks = [callbacks]
        else:
            callbacks = list(callbacks)
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradManager.attach: expected Tensors, got {type(t).__name__}")
            if not _dt.is_float(t.dtype):
                raise _AttachDtypeError(
                    f"GradManager.attach: only floating-point tensors have gradients, got a "
                    f"tensor of dtype {t.dtype} and shape {t.shape}")
            entry = self._attached.get(id(t))
            if entry is None or entry[0]() is not t:
                leaf = t._node if type(t._node) is core.LeafNode else core.LeafNode()
                entry = self._attached[id(t)] = (weakref.ref(t), [], leaf)
            entry[1].extend(callbacks)
            if t._node is None:
                t._node = entry[2]  # ops on t now record while a GradManager records
        return self

    def attached_tensors(self):
        return [t for t in (entry[0]() for entry in self._attached.values()) if t is not None]

    def is_attached(self, t):
        entry = self._attached.get(id(t))
        return entry is not None and entry[0]() is t

    def detach(self, tensors):
        """Stop tracking `tensors`."""
        if isinstance(tensors, Tensor):
            tensors = [tensors]
        for t in tensors:
            if self.is_attached(t):
                del self._attached[id(t)]

    # ------------------------------------------------------------- recording
    @property
    def is_recording(self):
        return self._recording

    def record(self):
        if self._recording:
            raise RuntimeError("GradManager.record: this GradManager is already recording")
        self._recording = True
        core.recording += 1
        _active[self] = next(_ranks)
        # Re-arm attached tensors whose value was replaced outside any graph since (an optimizer
        # step writes a new leaf value): they are leaves of this recording again.
        for ref, _, leaf in self._attached.values():
            t = ref()
            if t is not None and t._node is None:
                t._node, t._idx = leaf, 0

    def release(self):
        """Stop recording. The graph is freed with the tensors that hold it."""
        if self._recording:
            self._recording = False
            core.recording -= 1
            _active.pop(self, None)
        self._remote_roots = []

    def __enter__(self):
        self.record()
        return self

    def __exit__(self, *exc):
        self.release()

    def __or__(self, other):
        """``with gm1 | gm2:`` records with both at once; neither records the other's backward."""
        return GradManagerGroup([self]) | other

    # -------------------------------------------------------------- backward
    def backward(self, y=None, dy=None):
        """Accumulate d(y)/d(attached) into each attached tensor's .grad, then release.

        y: a tensor or a list of tensors (None: release only). dy: matching gradients of y;
        default ones.
        """
        if not self._recording:
            raise RuntimeError("GradManager.backward: no computation was recorded. Call it inside "
                               "`with gm:` or after gm.record(); a backward releases the "
                               "recording, so a second backward needs a new recording")
        ys = [] if y is None else list(y) if isinstance(y, (list, tuple)) else [y]
        if dy is None:
            dys = [None] * len(ys)
        else:
            dys = list(dy) if isinstance(dy, (list, tuple)) else [dy]
            if len(dys) != len(ys):
                raise ValueError(f"GradManager.backward: got {len(ys)} outputs but {len(dys)} "
                                 "output gradients")
        # Released first: the backward ops are recorded only by GradManagers still recording
        # (nested ones), which is what makes higher-order gradients work.
        remote = self._remote_roots
        if remote:
            import engine.functional as F

            ys = ys + remote
            dys = dys + [F.zeros_like(t) for t in remote]
        rank = _active.get(self)
        self.release()
        global backward_depth
        keep_graph = core.recording > 0  # another manager may still backward through the graph
        outer = any(r < rank for r in _active.values())
        saved, core.recording = core.recording, core.recording if outer else 0
        backward_depth += 1
        _backwarding.append(self)
        try:
            grads = _run_backward(self, ys, dys, keep_graph)
            self._accumulate(grads)
        finally:
            self._after_backward = []  # a failed backward leaves nothing for the next one
            _backwarding.pop()
            backward_depth -= 1
            core.recording = saved

    def _register_after_backward_callback(self, callback):
        """Run `callback()` after this backward's gradient callbacks, before the gradients
        are accumulated (MegEngine's hook; the distributed all-reduce flushes its buckets)."""
        self._after_backward.append(callback)
        return self

    def _accumulate(self, grads):
        deferred = []
        for t, g, (callbacks, _) in _reached(self._attached.values(), grads):
            # One gradient Tensor may reach several inputs (the backward of a + b hands dy to
            # both); each parameter gets its own object so in-place changes stay its own.
            g = core._tensor(g._storage, g._node, g._idx)
            deferred.append((t, g, callbacks))
        # callbacks in attach order; one returning a future (the bucketed all-reduce) resumes
        # once the after-backward callbacks have resolved it
        waiting = []
        for t, g, callbacks in deferred:
            for i, cb in enumerate(callbacks):
                g = cb(t, g)
                if not isinstance(g, Tensor) and hasattr(g, "get"):
                    waiting.append((t, g, callbacks[i + 1:]))
                    break
            else:
                t.grad = g if t.grad is None else t.grad + g
        after, self._after_backward = self._after_backward, []
        for callback in after:
            callback()
        for t, future, rest in waiting:
            g = future.get()
            for cb in rest:
                g = cb(t, g)
            t.grad = g if t.grad is None else t.grad + g

    def __repr__(self):
        return (f"GradManager(attached={len(self.attached_tensors())}, "
                f"recording={self._recording})")


class GradManagerGroup:
    """GradManagers that record together (``gm1 | gm2``): entered and exited as one, with one
    rank, so that none of them records the backward of another.

    Args:
        managers: the GradManagers of the group.

    Examples:
        >>> from engine.autodiff import GradManager
        >>> x = Tensor([1., 2.])
        >>> gm1, gm2 = GradManager().attach(x), GradManager().attach(x)
        >>> with gm1 | gm2:
        ...     y = x * x
        ...     gm1.backward(y)
        ...     gm2.backward(y)
        >>> x.grad.numpy()
        array([4., 8.], dtype=float32)
    """

    def __init__(self, managers):
        self._managers = list(managers)

    def __or__(self, other):
        if isinstance(other, GradManager):
            other = [other]
        elif isinstance(other, GradManagerGroup):
            other = other._managers
        else:
            return NotImplemented
        return GradManagerGroup(self._managers + [m for m in other if m not in self._managers])

    __ror__ = __or__

    def __enter__(self):
        rank = next(_ranks)
        for gm in self._managers:
            gm.record()
            _active[gm] = rank
        return self

    def __exit__(self, *exc):
        for gm in self._managers:
            gm.release()


def _reached(entries, grads):
    """(tensor, its gradient, the entry's other fields) for each (weakref to tensor, ...) entry
    whose tensor is alive, recorded, and reached by the backward's `grads`."""
    for ref, *rest in list(entries):
        t = ref()
        if t is None or t._node is None:
            continue
        g = grads.get(_key(t))
        if g is not None:
            yield t, g, rest


def _as_grad(y, dy):
    if dy is None:
        import engine.functional as F

        return F.ones_like(y)
    if not isinstance(dy, Tensor):
        dy = Tensor(dy, dtype=y.dtype, device=y.device)
    if dy.shape != y.shape:
        raise ValueError(f"GradManager.backward: dy of shape {dy.shape} does not match y of "
                         f"shape {y.shape}")
    return dy


def _run_backward(gm, ys, dys, keep_graph=False):
    """Reverse-mode sweep from ys; returns {key: grad} for the attached tensors' keys."""
    targets = {}
    for ref, _, _ in gm._attached.values():
        t = ref()
        if t is not None and t._node is not None:
            targets[_key(t)] = t
    if not _dtr.active():
        return _sweep({}, targets, ys, dys, _no_scope, keep_graph)
    # DTR: gradients stay resident while they wait for their node, and so does what a node's
    # backward works on until its gradients are stored
    grads = _dtr.PendingGradients()
    try:
        return _sweep(grads, targets, ys, dys, _dtr.node_backward, keep_graph)
    finally:
        grads.close()


_NO_SCOPE = contextlib.nullcontext()


def _no_scope(node, outs):
    return _NO_SCOPE


def _sweep(grads, targets, ys, dys, node_scope, keep_graph=False):
    """The sweep itself. grads: {key: gradient so far}; node_scope(node, outs): a context around
    each node's backward and the storing of its gradients; keep_graph: do not free the nodes'
    saved activations (another GradManager still records this graph)."""
    keep_graph = keep_graph or core.recording
    roots = []
    for y, dy in zip(ys, dys):
        if not isinstance(y, Tensor):
            raise TypeError(f"GradManager.backward: y must be a Tensor, got {type(y).__name__}")
        g = _as_grad(y, dy)
        if y._node is None:
            continue  # a constant: nothing to differentiate
        k = _key(y)
        grads[k] = g if k not in grads else grads[k] + g
        roots.append(y._node)

    order = _communication_order(_needed_nodes(roots, targets))
    for node in reversed(order):
        outs = [grads.get((node, i)) if (node, i) in targets else grads.pop((node, i), None)
                for i in range(node.n_outputs)]
        if all(g is None for g in outs) and not node.op.remote:
            continue  # (a communication node runs anyway: a peer waits for its message)
        edges = node.edges
        node.needs_input_grad = tuple(
            n is not None and (n in order.members or (n, i) in targets) for _, n, i in edges)
        with node_scope(node, outs):
            in_grads = node.op.backward(node, *outs)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if not keep_graph:
                node.release()  # its saved activations are done with: free them now, as we go
            for (_, n, i), g, need in zip(edges, in_grads, node.needs_input_grad):
                if g is None or not need:
                    continue
                prev = grads.get((n, i))
                g = grads[(n, i)] = g if prev is None else prev + g
                if (n, i) in targets and g._storage.__class__ is not Storage:
                    g._storage.freeze()  # DTR: a gradient the optimizer reads stays resident
    if not keep_graph:
        for node in order:
            node.release()  # (the nodes the sweep skipped: no gradient reached them)
    return {k: grads[k] for k in targets if k in grads}


def _communication_order(order):
    """`order` rearranged so that its communication nodes come in their forward order.

    The sweep runs nodes in reverse of `order`. Two ranks whose graphs differ (a rank whose loss
    skips a collective's output, which is then a remote root) would otherwise meet their
    backward collectives in different orders. Running them in the exact reverse of the forward
    order (each collective's seq) is what the peers agree on. Kahn's algorithm, plain nodes
    first, a communication node only when it is the next in forward order: that node's
    ancestors hold only earlier communication nodes, so the order always completes.
    """
    remote = [n for n in order if n.op.remote]
    if len(remote) < 2 or all(a.op.seq < b.op.seq for a, b in zip(remote, remote[1:])):
        return order
    position = {n: i for i, n in enumerate(order)}
    waiting = dict.fromkeys(order, 0)
    users = {n: [] for n in order}
    for node in order:
        for _, n, _ in node.edges:
            if n in waiting:
                waiting[node] += 1
                users[n].append(node)
    plain, comm = [], []
    for n in order:
        if waiting[n] == 0:
            heapq.heappush(comm if n.op.remote else plain,
                           (n.op.seq if n.op.remote else position[n], position[n], n))
    out = _Order()
    while plain or comm:
        _, _, node = heapq.heappop(plain if plain else comm)
        out.append(node)
        out.members.add(node)
        for u in users[node]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(comm if u.op.remote else plain,
                               (u.op.seq if u.op.remote else position[u], position[u], u))
    return out


class _Order(list):
    """Nodes in topological order (inputs first) plus a membership set."""

    def __init__(self):
        super().__init__()
        self.members = set()


def _needed_nodes(roots, targets):
    """Nodes reachable from roots that lead to an attached tensor, inputs before consumers.

    Iterative depth-first search (no recursion limit on deep graphs), inputs visited in order
    so that the sweep is deterministic.
    """
    order = _Order()
    visited = set()
    for root in roots:
        if root in visited:
            continue
        stack = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                if node.edges and node.op.remote:  # talks to a peer: needed whatever follows
                    order.append(node)
                    order.members.add(node)
                    continue
                for _, n, i in node.edges:
                    if n is not None and ((n, i) in targets or n in order.members):
                        order.append(node)
                        order.members.add(node)
                        break
                continue
            if node in visited:
                continue
            visited.add(node)
            stack.append((node, True))
            for _, n, _ in reversed(node.edges):
                if n is not None and n not in visited:
                    stack.append((n, False))
    return order
