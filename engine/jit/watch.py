"""What a trace sees of a call: every op application (through an Op.apply hook, like the
profiler's and DTR's), every random draw (engine.random's RNG) and every in-place update
(Tensor._reset) and detach() (which shares a value without an op), in order, while one traced
call runs.

A Watch is installed for the duration of one call (`with Watch(...) as w:`) and records the
call (the first) or checks it against a recording (later calls of the default mode, which runs
the Python function every time as MegEngine's does): the same ops, attributes, input shapes and
dtypes, in the same order, or a TraceError naming the first difference.
exclude_from_trace() regions are neither recorded nor checked.
"""
import time

import numpy as np

from ..ops import core
from ..ops import elemwise as _elemwise
from .provenance import Provenance, mismatch


class TraceError(RuntimeError):
    """A traced call diverged from its recording, or the trace cannot record what it saw."""


_active = None   # the Watch of the traced call running now
_excluded = 0    # depth of exclude_from_trace() blocks inside it


def active():
    return _active


def excluded():
    return _excluded > 0


# Events keep each value's Storage as it was when the event happened: a Tensor may be given
# another value later in the call (an in-place update, an optimizer step), and the program is
# built from what each op really read and made.


class OpEvent:
    """One op application seen in a traced call."""

    __slots__ = ("op", "attrs", "inputs", "outputs", "in_st", "out_st")

    def __init__(self, op, attrs, inputs, outputs):
        self.op, self.attrs, self.inputs, self.outputs = op, attrs, inputs, outputs
        self.in_st = tuple([t._storage for t in inputs])
        self.out_st = tuple([t._storage for t in outputs])

    def signature(self):
        return (self.op, tuple(self.attrs.items()),
                tuple([(t._storage.array.shape, t._storage.array.dtype) for t in self.inputs]))


class RandomEvent:
    """A random draw: rng._draw(method, *args) made the Tensor `output`."""

    __slots__ = ("rng", "method", "args", "device", "output", "out_st")

    def __init__(self, rng, method, args, device, output):
        self.rng, self.method, self.args, self.device, self.output = (rng, method, args, device,
                                                                      output)
        self.out_st = output._storage

    def signature(self):
        return ("random", self.method, self.args)


class ResetEvent:
    """An in-place update: target._reset(value) (BatchNorm's running statistics, `x += y`);
    `old` is the target's value before it."""

    __slots__ = ("target", "value", "old", "value_st")

    def __init__(self, target, value, old):
        self.target, self.value, self.old = target, value, old
        self.value_st = value._storage

    def signature(self):
        return ("reset", tuple(self.value._storage.array.shape))


class AliasEvent:
    """t.detach(): `output` shares `source`'s value outside autograd (no op runs)."""

    __slots__ = ("source", "output", "source_st", "out_st")

    def __init__(self, source, output):
        self.source, self.output = source, output
        self.source_st, self.out_st = source._storage, output._storage

    def signature(self):
        return ("detach", tuple(self.source._storage.array.shape))


class StepEvent:
    """optimizer.step() with these gradients: [(parameter, its .grad's Storage or None)]."""

    __slots__ = ("optimizer", "grads")

    def __init__(self, optimizer, grads):
        self.optimizer, self.grads = optimizer, grads

    def signature(self):
        return ("step", type(self.optimizer).__name__,
                tuple(g is not None for _, g in self.grads))


def grads_of(params):
    """[(parameter, its .grad's Storage or None)]."""
    return [(p, None if p.grad is None else p.grad._storage) for p in params]


class _Signed:
    """An event already reduced to its signature."""

    __slots__ = ("sig",)

    def __init__(self, sig):
        self.sig = sig

    def signature(self):
        return self.sig


def same(a, b):
    """a == b for op attributes and signatures, arrays compared by value."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))
    try:
        return bool(a == b)
    except Exception:  # (objects whose == is not a truth value)
        return False


def returned_tensors(out):
    """The Tensors in a returned structure (Tensor, tuple, list, dict), in order."""
    from ..tensor import Tensor

    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in returned_tensors(o)]
    if isinstance(out, dict):
        return [t for v in out.values() for t in returned_tensors(v)]
    return []


def _structure(sig):
    """What symbolic=True checks of an event: the op (not its shapes or shape-valued
    attributes), or the kind of a random draw / update / step with its method."""
    return sig[0] if not isinstance(sig[0], str) else sig[:2]


_OUTER = "a GradManager that began recording before the call records it"


def describe(sig):
    if sig[0] in ("random", "reset", "detach", "step"):
        return f"{sig[0]} {sig[1:]}"
    op, attrs, ins = sig
    attrs = dict(attrs)
    shapes = ", ".join(f"{s}:{d}" for s, d in ins)
    return f"{op.__name__}({shapes}; attrs {dict(attrs)})"


def _fail(reason, detail):
    """MegEngine's TraceError ("trace error because <reason>"), engine's detail as a note."""
    e = TraceError(f"trace error because {reason}")
    e.add_note(detail)
    raise e


class Watch:
    """Sees one traced call. `inputs`: the call's Tensor arguments. `expected`: a recording
    (Watch.recorded() of the first call) to check the call against, or None: record it.
    `keep_events`: also keep the events themselves (a without_host program is built from
    them; they hold every value the call made, so only the first call keeps them). `name` is
    the traced function's, for errors."""

    def __init__(self, name, expected=None, keep_events=False, symbolic=False, seconds=None,
                 inputs=()):
        self.name = name
        self.prov = Provenance(inputs)
        self.provs = []       # per event: where each input came from (provenance.py)
        self.out_prov = None  # where each returned Tensor came from
        self.seconds = seconds  # op name -> seconds of its applications (profiling), or None
        self.expected, self.expected_provs, self.expected_out = (
            expected if expected is not None else (None, None, None))
        self.symbolic = symbolic
        self.keep_events = keep_events
        self.signatures = []
        self.events = []
        self.effects = []   # what a replay without the Python function could not redo
        self.params = {}    # id -> parameter whose gradient the call computes or steps with
        self.final_grads = None  # grads_of(params) when the call returned
        self.prior_grads = []    # gradients a backward of the call added to
        self.host_made = {}      # id -> Storage of each Tensor the call built from host data
        self.fills = set()       # ids of those that are constant fills (F.full and kin)
        self._saved = []
        self._seen = 0
        self._recording_at_start = 0

    # --------------------------------------------------------------- what is seen
    def recorded(self):
        """What a later call is checked against."""
        return self.signatures, self.provs, self.out_prov

    def _see(self, event, tokens=()):
        sig = event.signature()
        k = self._seen
        self._seen = k + 1
        if self.keep_events:
            self.events.append(event)
        if self.expected is None:
            self.signatures.append(sig)
            self.provs.append(tokens)
            return k
        if k >= len(self.expected):
            _fail("too many instructions",
                  f"trace({self.name}): this call runs more ops than the recorded one "
                  f"({len(self.expected)}); op {k} is {describe(sig)}")
        want = self.expected[k]
        if self.symbolic:  # shapes are symbolic: the same ops in the same order
            equal = _structure(sig) == _structure(want)
        else:
            try:
                equal = sig == want  # (tuples of ints, dtypes and op classes: one C compare)
                equal = equal if type(equal) is bool else same(sig, want)
            except (ValueError, TypeError):  # an array among the attributes
                equal = same(sig, want)
        if not equal:
            _fail("operator mismatch", f"trace({self.name}): op {k} differs from the "
                  f"recording: {describe(sig)}, recorded {describe(want)}")
        recorded = self.expected_provs[k]
        if tokens != recorded:
            for i, (was, now) in enumerate(zip(recorded, tokens)):
                reason = mismatch(was, now)
                if reason:
                    _fail(reason, f"trace({self.name}): input {i} of op {k} ({describe(sig)}) "
                          f"comes from {now}, in the recording from {was}")
        return k

    def op(self, cls, inputs, attrs, out):
        if self._recording_at_start and core.recording and not self.effects.count(_OUTER):
            self.effects.append(_OUTER)
        tokens = self.prov.tokens(inputs)
        outs = out if isinstance(out, tuple) else (out,)
        if self.keep_events:
            k = self._see(OpEvent(cls, dict(attrs), tuple(inputs), outs), tokens)
        else:  # the signature alone (what OpEvent.signature gives): no event kept
            k = self._see(_Signed((cls, tuple(attrs.items()), tuple(
                [(t._storage.array.shape, t._storage.array.dtype) for t in inputs]))), tokens)
        self.prov.made(k, outs)

    def finish(self, out=None):
        """The call returned `out`: checks that it ran all the recorded ops and returns the
        recorded values."""
        tokens = self.prov.tokens(returned_tensors(out))
        if self.expected is None:
            self.out_prov = tokens
        else:
            if self._seen != len(self.expected):
                _fail("mismature end", f"trace({self.name}): this call ran {self._seen} ops, "
                      f"the recorded one {len(self.expected)}")
            if tokens != self.expected_out:
                _fail("data unreadable", f"trace({self.name}): the call returns values from "
                      f"{tokens}, the recording from {self.expected_out}")
        if core.recording > self._recording_at_start:
            self.effects.append("a GradManager still records when the call returns (its "
                                "backward runs after it)")
        if self.keep_events:
            self.final_grads = grads_of(self.params.values())

    # --------------------------------------------------------------- installing
    def __enter__(self):
        global _active
        if _active is not None:
            raise TraceError(f"trace({self.name}): called while another traced call runs")
        from ..autodiff.grad_manager import GradManager
        from ..optimizer import Optimizer
        from ..random import RNG
        from ..tensor import Tensor

        watch = self
        inner_apply = core.Op.__dict__["apply"].__func__
        plain_reset, plain_draw, plain_out = Tensor._reset, RNG._draw, RNG._out
        plain_step, plain_gen = Optimizer.step, RNG.__dict__["_gen"]
        plain_detach = Tensor.detach
        plain_accumulate = GradManager.__dict__["_accumulate"]
        plain_new = Tensor.__dict__["__new__"]
        plain_const = _elemwise._const
        from .. import functional as F
        from ..functional import tensor as _ftensor

        plain_full = _ftensor.full
        self._recording_at_start = core.recording

        def traced_detach(self):
            t = plain_detach(self)
            if not _excluded:
                watch._see(AliasEvent(self, t), (watch.prov.token(self),))
            return t

        seconds = self.seconds

        def traced_apply(cls, *inputs, **attrs):
            if seconds is not None:
                t0 = time.perf_counter()
                out = inner_apply(cls, *inputs, **attrs)
                seconds[cls.__name__] = seconds.get(cls.__name__, 0.0) + time.perf_counter() - t0
            else:
                out = inner_apply(cls, *inputs, **attrs)
            if not _excluded:
                watch.op(cls, inputs, attrs, out)
            else:
                watch.prov.excluded(out if isinstance(out, tuple) else (out,))
            return out

        def traced_reset(self, other):
            old = self._storage
            plain_reset(self, other)
            if not _excluded:
                watch._see(ResetEvent(self, other, old), (watch.prov.token(other),))

        pending = []
        drawing = []

        def traced_draw(self, method, *args):
            if not _excluded and any(isinstance(a, np.ndarray) for a in args):
                watch.effects.append(f"random.{method} takes its parameters from a Tensor "
                                     "(a replay would keep their first values)")
            pending.append((method, args))
            drawing.append(True)
            try:
                return plain_draw(self, method, *args)
            finally:
                drawing.pop()

        def traced_gen(self):
            if not drawing and not _excluded:  # (multinomial, permutation, shuffle)
                watch.effects.append("a random draw outside RNG._draw")
            return plain_gen.fget(self)

        def traced_out(self, array, device, replay=None):
            t = plain_out(self, array, device, replay)
            if pending and not _excluded:
                method, args = pending.pop()
                watch.prov.made(watch._see(RandomEvent(self, method, args, device, t)), (t,))
            pending.clear()
            return t

        def traced_step(self, *args, **kwargs):
            # One event for the whole update: a replay calls the optimizer itself (it reads
            # the learning rate and its state then), so the ops inside are not recorded.
            global _excluded
            if _excluded:
                return plain_step(self, *args, **kwargs)
            params = [p for g in self.param_groups for p in g["params"]]
            for p in params:
                watch.params.setdefault(id(p), p)
            watch._see(StepEvent(self, grads_of(params)))
            _excluded += 1
            try:
                return plain_step(self, *args, **kwargs)
            finally:
                _excluded -= 1

        def traced_new(cls, *args, **kwargs):
            t = plain_new(cls, *args, **kwargs)
            if not _excluded:
                watch.prov.host(t)
                if watch.keep_events:
                    watch.host_made[id(t._storage)] = t._storage
            return t

        def traced_full(shape, value, *args, **kwargs):
            t = plain_full(shape, value, *args, **kwargs)
            if not _excluded:
                v = value.item() if isinstance(value, Tensor) else value
                watch.prov.constant(t, v)
                watch.fills.add(id(t._storage))
            return t

        def traced_const(value, dtype, device):
            t = plain_const(value, dtype, device)
            if not _excluded:
                watch.prov.constant(t)
            return t

        def traced_accumulate(self, grads):
            if not _excluded:
                for ref, callbacks, _ in self._attached.values():
                    t = ref()
                    if t is None:
                        continue
                    if callbacks:
                        watch.effects.append("GradManager callbacks run Python on the "
                                             "gradients")
                    watch.params.setdefault(id(t), t)
                    if t.grad is not None and watch.keep_events:
                        watch.prior_grads.append(t.grad)
            return plain_accumulate(self, grads)

        self._saved = [(core.Op, "apply", core.Op.__dict__["apply"]),
                       (Tensor, "_reset", Tensor.__dict__["_reset"]),
                       (Tensor, "detach", Tensor.__dict__["detach"]),
                       (RNG, "_draw", RNG.__dict__["_draw"]), (RNG, "_out", RNG.__dict__["_out"]),
                       (Optimizer, "step", Optimizer.__dict__["step"]), (RNG, "_gen", plain_gen),
                       (GradManager, "_accumulate", plain_accumulate),
                       (Tensor, "__new__", plain_new), (_elemwise, "_const", plain_const),
                       (_ftensor, "full", plain_full), (F, "full", F.full)]
        core.Op.apply = classmethod(traced_apply)
        Tensor._reset, RNG._draw, RNG._out = traced_reset, traced_draw, traced_out
        Tensor.detach = traced_detach
        Optimizer.step = traced_step
        GradManager._accumulate = traced_accumulate
        Tensor.__new__ = traced_new
        _elemwise._const = traced_const
        _ftensor.full = F.full = traced_full
        RNG._gen = property(traced_gen)
        core.apply_hooks += 1
        _active = self
        return self

    def __exit__(self, *exc):
        global _active, _excluded
        for owner, name, value in reversed(self._saved):
            setattr(owner, name, value)
        self._saved = []
        core.apply_hooks -= 1
        _active = None
        _excluded = 0


class exclude_from_trace:
    """``with exclude_from_trace():`` inside a traced function: what runs in the block is
    neither recorded nor checked (MegEngine's name). Outside a traced call it does nothing. A
    trace with ``without_host=True`` does not run the Python function after its first call, so
    a function with such a block is refused there (TraceError)."""

    def __enter__(self):
        global _excluded
        if _active is not None:
            _active.effects.append("an exclude_from_trace() block runs Python each call")
            _excluded += 1
        return self

    def __exit__(self, *exc):
        global _excluded
        if _active is not None and _excluded:
            _excluded -= 1
