"""`engine.jit.trace`: MegEngine 1.13's trace decorator and class.

    @trace(symbolic=True)
    def train_step(data, label): ...

Two ways to run, as MegEngine documents them:
- without_host=False (the default): the Python function runs on every call, and the ops it
  applies, random numbers it draws, tensors it updates in place and optimizer steps it takes
  are checked against the first call's recording as a dataflow graph: the same ops in the
  same order, each input coming from the same place (the same earlier op's output, the same
  argument, an equal constant; engine/jit/provenance.py), the same values returned. Shapes and
  the attributes that follow from them are free, in both symbolic modes, as MegEngine's own
  tests use them. The first difference is MegEngine's TraceError ("trace error because
  operator mismatch", "... input id mismatch", "... tensors not equals", ...), engine's
  description of both sides as its note. exclude_from_trace() blocks are not checked.
  (engine executes the ops eagerly in this mode: it checks, it does not compile.)
- without_host=True: the first call runs the function and records it; later calls replay the
  recording (engine/jit/program.py) on the new inputs' arrays without running the function's
  Python: no Tensor objects, Module calls or tape in between, each intermediate freed at its
  last use. A whole training step replays: the forward and backward ops (the tape only chose
  them), the optimizer step (the optimizer itself is called with the replayed gradients, so
  it reads its learning rate and state then) and the gradients left in .grad. In-place
  updates (BatchNorm's running statistics) and random draws (fresh numbers from engine's RNG
  stream on every replay) are replayed. What a replay cannot redo without the function's
  Python is refused with a TraceError after that first call: a GradManager recording across
  the call's boundary or with callbacks, a backward adding to gradients from before the call,
  an exclude_from_trace block, random draws outside RNG's sampling methods, and a Tensor built
  from host data (mge.tensor(...) of numpy or a Python number) that an op reads, which a
  replay would freeze at its first value (Python numbers in expressions, x * 2.0, and constant
  fills, F.zeros / F.ones_like, are constants of the graph and fine).

Calls whose Tensor inputs differ in dtype or device from the recording (and, for a
without_host replay, in shape), or whose other arguments differ in value: symbolic=False
raises TraceError, symbolic=True records the new signature (a retrace) and keeps both. numpy
array arguments are part of the signature by dtype (without_host=True refuses them).
capture_as_const=True freezes the values the function reads from outside (parameters,
closures) at the recording; otherwise each replay reads their current value. (With
capture_as_const the first call also builds the program dump() writes, keeping a copy of each
value read from outside: the memory of one more set of parameters.)
record_only=True records every call and never replays.
dtr_config=DTRConfig(...) turns engine's DTR on while a call runs in the default mode (a
replay does not go through the op path that DTR watches). profiling=True times the replayed
ops; get_profile() returns them.
opt_level >= 2 (MegEngine's default) with capture_as_const=True and without_host=True replays
an inference graph after the dump's inference passes (constants folded, BatchNorm folded into
the conv before it, conv + ReLU fused; results agree with eager to rounding), and any other
without_host replay (a training step) with BatchNorm + ReLU, a residual add + ReLU and the
backward pair ReluGrad + BatchNormGrad fused (engine/jit/fusion.py; results equal eager bit for
bit); opt_level 0 or 1 replays the ops as recorded.
sublinear_memory_config=SublinearMemoryConfig() with without_host=True plans recomputation
ahead of time on the replayed program (engine/jit/sublinear.py: cheap ops whose values wait
long between uses are recomputed before their late use; results unchanged bit for bit); the
config's search parameters are MegEngine's planner's and have no effect.
Accepted with no effect in engine (the graph compiler they configure is not built):
graph_opt_config, symbolic_shape, imperative.
"""
import functools
import time

import numpy as np

from .. import dtr as _dtr
from ..core._trace_option import set_symbolic_shape  # noqa: F401  (MegEngine imports it from here)
from ..tensor import Tensor
from . import program as _program
from .configs import DTRConfig, GraphOptimizationConfig, SublinearMemoryConfig
from .watch import TraceError, Watch
from .watch import active as _active
from .watch import excluded as _excluded


def is_tracing():
    """Whether a traced call is running now (outside its exclude_from_trace blocks)."""
    return _active() is not None and not _excluded()


class _Recording:
    """One traced signature: its ops' signatures, its Program (kept for a without_host replay
    and for dump with capture_as_const) or why there is none, and how often it was called."""

    __slots__ = ("signatures", "program", "no_program_why", "calls", "replay")

    def __init__(self, signatures, program, no_program_why=None, replay=None):
        self.signatures, self.program, self.calls = signatures, program, 0
        self.no_program_why = no_program_why
        self.replay = replay or program  # what a without_host call runs


class trace:
    """Wraps a function so that its calls are traced (see the module's docstring).

    Args:
        function: the function to trace.
        symbolic: retrace on a new input signature (True) or raise TraceError (False).
        capture_as_const: freeze the values read from outside the function at the recording.
        record_only: record every call, never replay.
        sublinear_memory_config: a SublinearMemoryConfig: with without_host=True, recompute
            cheap values at their late uses instead of keeping them (sublinear.py).
        dtr_config: a DTRConfig: DTR on while a call runs (default mode).
        profiling: time the replayed ops (get_profile()).
        opt_level: MegEngine's graph optimisation level (>= 2: a captured without_host
            inference replay runs the inference passes, a training replay the bit-exact
            fusions; see the module docstring).
        graph_opt_config: a GraphOptimizationConfig (accepted; no effect in engine).
        symbolic_shape: MegEngine's symbolic shape inference (accepted; no effect in engine).
        without_host: replay the recording without running the function's Python.
        imperative: MegEngine's imperative executor switch (accepted; no effect in engine).
    """

    def __new__(cls, *args, **kwargs):
        if not args:  # @trace(symbolic=True): the options first, the function next
            return functools.partial(cls, **kwargs)
        return super().__new__(cls)

    def __init__(self, function, symbolic=False, capture_as_const=False, record_only=False,
                 sublinear_memory_config=None, dtr_config=None, profiling=False, opt_level=2,
                 graph_opt_config=None, symbolic_shape=True, without_host=False,
                 imperative=False):
        if not callable(function):
            raise TypeError(f"trace: expected a callable, got {type(function).__name__}")
        for name, value, kind in (("sublinear_memory_config", sublinear_memory_config,
                                   SublinearMemoryConfig), ("dtr_config", dtr_config, DTRConfig),
                                  ("graph_opt_config", graph_opt_config,
                                   GraphOptimizationConfig)):
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"trace: {name} must be a {kind.__name__}, got "
                                f"{type(value).__name__}")
        if opt_level not in (0, 1, 2, 3):
            raise ValueError(f"trace: opt_level must be 0..3, got {opt_level!r}")
        self.__wrapped__ = function
        functools.update_wrapper(self, function)
        self.symbolic, self.capture_as_const = bool(symbolic), bool(capture_as_const)
        self.record_only, self.without_host = bool(record_only), bool(without_host)
        self.sublinear_memory_config, self.dtr_config = sublinear_memory_config, dtr_config
        self.profiling, self.opt_level = bool(profiling), opt_level
        self.graph_opt_config, self.symbolic_shape = graph_opt_config, symbolic_shape
        self.imperative = imperative
        self._recordings = {}  # input signature -> _Recording
        self._profile = {"calls": 0, "seconds": 0.0}
        self._op_seconds = {}  # profiling in the default mode: op name -> seconds
        self._newest = None

    def __get__(self, obj, objtype=None):  # a traced method: bound like a function
        return self if obj is None else functools.partial(self.__call__, obj)

    @property
    def _name(self):
        return getattr(self.__wrapped__, "__qualname__", repr(self.__wrapped__))

    def __call__(self, *args, **kwargs):
        if _active() is not None:  # inside another traced call: part of that one's recording
            return self.__wrapped__(*args, **kwargs)
        if self.capture_as_const and any(not isinstance(a, Tensor) for a in args):
            raise TypeError("Only support tensor type args when capture_as_const is enabled")
        # The default mode leaves shapes free (the Python runs every call; MegEngine's own
        # tests trace calls of changing shapes in both symbolic modes); a replay is of one.
        tensors, key = _flatten((args, kwargs), shapes=self.without_host,
                                arrays_ok=not self.without_host)
        rec = None if self.record_only else self._recordings.get(key)
        if rec is None and self._recordings and not self.symbolic and not self.record_only:
            raise TraceError(f"trace({self._name}): called with {_describe(key)}, traced with "
                             f"{_describe(next(iter(self._recordings)))}; pass symbolic=True to "
                             "trace each signature")
        t0 = time.perf_counter()
        if rec is None:
            out, rec = self._record(args, kwargs, tensors)
            if not self.record_only:
                self._recordings[key] = rec
        elif self.without_host:
            out = rec.replay.replay(tensors, self.profiling)
        else:
            out = self._run(Watch(self._name, rec.signatures, symbolic=True,
                                  seconds=self._op_seconds if self.profiling else None,
                                  inputs=tensors), args, kwargs)
        rec.calls += 1
        self._profile["calls"] += 1
        self._profile["seconds"] += time.perf_counter() - t0
        return out

    def _run(self, watch, args, kwargs):
        dtr_was = None
        if self.dtr_config is not None and not _dtr.enabled:
            dtr_was = (_dtr.eviction_threshold, _dtr.evictee_minimum_size)
            _dtr(eviction_threshold=self.dtr_config.eviction_threshold,
                 evictee_minimum_size=self.dtr_config.evictee_minimum_size)
        try:
            with watch:
                out = self.__wrapped__(*args, **kwargs)
                watch.finish(out)
        finally:
            if dtr_was is not None:
                _dtr.disable()
                _dtr.eviction_threshold, _dtr.evictee_minimum_size = dtr_was
        return out

    def _record(self, args, kwargs, tensors):
        # The events hold every value the call made until the Program is built: kept only when
        # a Program is wanted (a replay, or dump of a captured graph).
        want_program = (self.without_host or self.capture_as_const) and not self.record_only
        watch = Watch(self._name, keep_events=want_program, inputs=tensors)
        input_storages = [t._storage for t in tensors]
        out = self._run(watch, args, kwargs)
        program, why = None, None
        if want_program:
            if watch.effects:
                why = "; ".join(sorted(set(watch.effects)))
                if self.without_host:
                    raise TraceError(
                        f"trace({self._name}, without_host=True): a replay cannot redo this "
                        f"without running the function: {why}. Trace it with "
                        "without_host=False (the default), which runs it on every call")
            else:
                program = _program.record(
                    self._name, watch.events, input_storages, out, self.capture_as_const,
                    watch.final_grads or (), watch.prior_grads,
                    watch.host_made if self.without_host else None, watch.fills)
            watch.events = watch.host_made = None
        replay = None
        if program is not None and self.without_host and self.capture_as_const and \
                self.opt_level >= 2:
            from .dump import optimized_for_replay

            replay = optimized_for_replay(program)
        if program is not None and self.without_host and replay is None and \
                self.opt_level >= 2:
            from .fusion import fuse_with_relu

            replay = fuse_with_relu(program)
        if program is not None and self.without_host and \
                self.sublinear_memory_config is not None:
            from .sublinear import plan

            replay = plan(replay or program)
        rec = _Recording(watch.recorded(), program, why, replay)
        self._newest = rec  # what dump() writes
        return out, rec

    def dump(self, file, *, arg_names=None, output_names=None, append=False, keep_var_name=1,
             keep_opr_name=False, keep_param_name=False, keep_opr_priority=False,
             no_change_graph=False, strip_info_file=None, append_json=False,
             optimize_for_inference=True, user_info=None, enable_metadata=True,
             input_data=None, repeat=1, silent=False, no_assert=False, maxerr=1e-4,
             resize_input=False, input_transform=None, dump_format=None, model_version=2,
             compat_older_version=None, format=None, **kwargs):
        """Writes the captured graph of the newest traced call to file (a path or a binary
        file object) as an engine graph file (engine/jit/graph_file.py), which
        engine.jit.load(file) runs without the model's code. Needs capture_as_const=True.

        Args:
            arg_names: names of the call's Tensor arguments, in order (default arg_0, ...).
            output_names: names of the returned Tensors (a dict's keys name its own).
            optimize_for_inference: fold constants and BatchNorm into the conv before it, fuse
                conv + ReLU, drop what no output needs (engine/jit/passes.py).
            user_info: a JSON-like value (dicts, lists, str, numbers, arrays) kept in the file
                (GraphModel.user_info).
            format: None (engine's graph file) or "onnx" (engine.onnx.export of the same
                graph; arg_names / output_names name the ONNX inputs and outputs).
            kwargs: MegEngine's optimize options (enable_nchw88, enable_fuse_conv_bias_
                nonlinearity, ...): accepted; they configure MegEngine's compiler, not engine.

            input_data: test cases (MegEngine's "name:file;..." / "#rand(min, max, shape...)"
                strings, engine/jit/testcases.py): their inputs and the outputs the graph gives
                on them are written into the file (GraphModel.testcases); repeat tiles them.

        MegEngine's other arguments (keep_*_name, strip_info_file, dump_format, model_version,
        the load_and_run checks silent / no_assert / maxerr / resize_input / input_transform,
        ...) describe its FlatBuffers format and its load_and_run tool; they are accepted and
        have no effect, except that append=True is refused (an engine graph file holds one
        graph).

        Returns:
            DumpInfo(nr_opr, tot_bytes, tensor_value_bytes, content_hash, inputs, outputs,
            params).
        """
        from .dump import dump_metadata, dump_program

        where = f"trace({self._name}).dump"
        if not self.capture_as_const:
            raise ValueError(f"{where}: you must specify capture_as_const=True at __init__ to "
                             "use dump")
        if append:
            raise ValueError(f"{where}: append=True is not supported (a file holds one graph)")
        rec = self._newest
        if rec is None:
            raise ValueError(f"{where}: the traced function has not been called yet; call it "
                             "once so that there is a graph to dump")
        if rec.program is None:
            raise ValueError(f"{where}: the traced call cannot be dumped: {rec.no_program_why}")
        if format == "onnx":
            from ..onnx import export

            return export(self, file, input_names=arg_names, output_names=output_names,
                          optimize=optimize_for_inference)
        if format is not None:
            raise ValueError(f"{where}: format must be None (engine's graph file) or 'onnx', "
                             f"got {format!r}")
        metadata = dump_metadata(False, optimize_for_inference, kwargs) if enable_metadata \
            else None
        return dump_program(rec.program, file, arg_names, output_names,
                            optimize_for_inference, user_info, kwargs,
                            input_data=input_data, repeat=repeat, metadata=metadata)

    def get_profile(self):
        """{"calls", "seconds", "ops": {op: seconds}, "profiler": [{"op", "seconds"}, ...]}:
        the traced calls and their seconds; with profiling=True the seconds spent in each op
        (replayed ops, or in the default mode the ops the function applied), also as
        MegEngine's "profiler" entry, a list sorted by time."""
        ops = dict(self._op_seconds)
        for rec in self._recordings.values():
            if rec.program is not None:
                for k, v in rec.replay.op_seconds.items():
                    ops[k] = ops.get(k, 0.0) + v
        profiler = [{"op": k, "seconds": v} for k, v in sorted(ops.items(), key=lambda kv: -kv[1])]
        return dict(self._profile, ops=ops, profiler=profiler)


def _flatten(obj, shapes=True, arrays_ok=True):
    """The Tensors in obj (args, kwargs), and the call's signature: each Tensor as (shape,
    dtype, device) and each numpy array as (shape, dtype) (shape None when `shapes` is False),
    every other value as itself. arrays_ok=False refuses numpy arrays (a replay would freeze
    them)."""
    tensors = []

    def walk(o):
        if isinstance(o, Tensor):
            tensors.append(o)
            st = o._storage
            a = st.array
            # (the dtype itself, not its name: str(dtype) costs more than the rest of a replay's
            # bookkeeping for one input)
            return ("T", a.shape if shapes else None, a.dtype, str(st.device))
        if isinstance(o, np.ndarray):
            if not arrays_ok:
                raise TraceError("trace(without_host=True): an argument is a numpy array, "
                                 "which a replay would freeze at its first value; pass a Tensor")
            return ("N", o.shape if shapes else None, o.dtype)
        if isinstance(o, (tuple, list)):
            return (type(o).__name__, *[walk(x) for x in o])
        if isinstance(o, dict):
            return ("dict",) + tuple((k, walk(o[k])) for k in sorted(o, key=repr))
        try:
            hash(o)
        except TypeError:
            raise TraceError(f"trace: an argument of type {type(o).__name__} is neither a "
                             "Tensor nor a hashable value") from None
        return ("V", o)

    return tensors, walk(obj)


def _describe(key):
    """A call signature as the user wrote it: Tensors as shape:dtype@device, values as repr."""
    kind = key[0]
    if kind == "T":
        return f"Tensor{key[1] if key[1] is not None else '(...)'}:{key[2]}@{key[3]}"
    if kind == "N":
        return f"ndarray{key[1] if key[1] is not None else '(...)'}:{key[2]}"
    if kind == "V":
        return repr(key[1])
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in key[1:]) + "}"
    if kind == "tuple" and len(key) == 3 and key[2][0] == "dict":  # (args, kwargs)
        parts = [_describe(a) for a in key[1][1:]]
        parts += [f"{k}={_describe(v)}" for k, v in key[2][1:]]
        return "(" + ", ".join(parts) + ")"
    return ("[" if kind == "list" else "(") + ", ".join(_describe(x) for x in key[1:]) + (
        "]" if kind == "list" else ")")
