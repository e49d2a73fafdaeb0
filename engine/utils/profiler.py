"""Profiler: a Chrome-trace JSON (open it in Perfetto or chrome://tracing) with one event per op
application and its wall time.

How it hooks in, at no cost while off: start() swaps `engine.ops.core.Op.apply` (the entry of
every op) for a timing wrapper around whatever was there (plain path or DTR's), stop() puts it
back. Nothing in the op path tests a flag. Start the profiler after `mge.dtr.enable()`, not
before (enabling DTR installs its own Op.apply over the wrapper).

On GPU the op's stream is synchronized after each op while profiling (profile_device=1, the
default), so an event's time is the kernel's, not just its launch.
"""
import json
import os
import threading
import time
import traceback
from contextlib import ContextDecorator, contextmanager

from ..logger import get_logger
from ..ops import core as _core

__all__ = ["Profiler", "profile", "scope", "merge_trace_events", "is_profiling"]

_running_profiler = None


class Profiler(ContextDecorator):
    r"""Profile op execution in imperative mode.

    Args:
        path: default path prefix for profiler to dump (a directory; the trace is written to
            ``path/<pid>.chrome_timeline.json``).
        format: output format; "chrome_timeline.json" (MegEngine's "memory_flow.svg" is not
            produced by engine and is refused).
        formats: a list of formats, instead of ``format``.
        with_backtrace: Whether to record backtrace information for ops (the Python call site,
            in each event's args).
        with_scopes: Whether to keep more scopes to record module hierarchy: every
            ``Module.__call__`` becomes an event around its ops.
        kwargs: MegEngine's options ``sample_rate``, ``profile_device`` (synchronize the GPU
            after each op, default 1), ``num_tensor_watch``, ``enable_cupti`` (accepted; only
            profile_device has an effect in engine).

    Examples:
        >>> import json, os, tempfile
        >>> import engine as mge
        >>> from engine.utils.profiler import Profiler
        >>> d = tempfile.mkdtemp()
        >>> with Profiler(d) as prof:
        ...     y = mge.tensor([1.0, 2.0]) * 2 + 1
        >>> events = json.load(open(prof.path))["traceEvents"]
        >>> [e["name"] for e in events if e.get("cat") == "op"]
        ['Mul', 'Add']
    """

    CHROME_TIMELINE = "chrome_timeline.json"

    valid_options = {"sample_rate": 0, "profile_device": 1, "num_tensor_watch": 10,
                     "enable_cupti": 0}
    valid_formats = {"chrome_timeline.json"}

    def __init__(self, path="profile", format="chrome_timeline.json", formats=None,
                 with_backtrace=False, with_scopes=False, **kwargs):
        if not formats:
            formats = [format]
        assert not isinstance(formats, str), "formats excepts list, got str"
        for fmt in formats:
            if fmt not in Profiler.valid_formats:
                raise ValueError(f"Profiler: unsupported format {fmt!r}; engine writes "
                                 f"{sorted(Profiler.valid_formats)}")
        self._path = path
        self._formats = list(formats)
        self._options = {opt: int(kwargs.pop(opt, default))
                         for opt, default in Profiler.valid_options.items()}
        if kwargs:
            raise TypeError(f"Profiler: unknown options {sorted(kwargs)}; expected "
                            f"{sorted(Profiler.valid_options)}")
        self.with_backtrace = with_backtrace
        self._with_scopes = with_scopes
        self._pid = "<PID>"
        self._events = []
        self._saved_apply = None
        self._saved_call = None
        self._installed = None
        self._t0 = 0.0

    @property
    def path(self):
        fmt = self._formats[0] if len(self._formats) == 1 else "{" + ",".join(self._formats) + "}"
        return self.format_path(self._path, self._pid, fmt)

    @property
    def directory(self):
        return self._path

    @property
    def formats(self):
        return list(self._formats)

    def format_path(self, path, pid, format):
        return os.path.join(path, "{}.{}".format(pid, format))

    # ---- recording -------------------------------------------------------------------------
    def _event(self, name, cat, t_start, t_end, args):
        self._events.append({"name": name, "cat": cat, "ph": "X", "pid": self._pid,
                             "tid": threading.get_ident(),
                             "ts": (t_start - self._t0) * 1e6, "dur": (t_end - t_start) * 1e6,
                             "args": args})

    def _timed_apply(self, inner):
        clock = time.perf_counter
        sync_gpu = bool(self._options["profile_device"])
        backtrace = self.with_backtrace
        record = self._event

        def apply(cls, *inputs, **attrs):
            t_start = clock()
            out = inner(cls, *inputs, **attrs)
            device = inputs[0]._storage.device if inputs else None
            if sync_gpu and device is not None and device.type == "gpu":
                device.xp.cuda.get_current_stream().synchronize()
            t_end = clock()
            args = {"inputs": [f"{tuple(t.shape)}:{t.dtype}" for t in inputs]}
            if attrs:
                args["attrs"] = {k: repr(v) for k, v in attrs.items()}
            if backtrace:
                args["backtrace"] = traceback.format_stack(limit=6)[:-1]
            record(cls.__name__, "op", t_start, t_end, args)
            return out

        return apply

    def _timed_call(self, inner):
        clock = time.perf_counter
        record = self._event

        def __call__(module, *inputs, **kwargs):
            t_start = clock()
            try:
                return inner(module, *inputs, **kwargs)
            finally:
                record(type(module).__name__, "module", t_start, clock(), {})

        return __call__

    # ---- control ---------------------------------------------------------------------------
    def start(self):
        global _running_profiler
        assert _running_profiler is None, "Profiler: another profiler is running"
        _running_profiler = self
        self._pid = os.getpid()
        self._events = [{"name": "Metadata", "ph": "M", "pid": self._pid, "tid": 0,
                         "args": {"localTime": time.time() * 1e6}},
                        {"name": "process_name", "ph": "M", "pid": self._pid, "tid": 0,
                         "args": {"name": f"engine {self._pid}"}}]
        self._t0 = time.perf_counter()
        self._saved_apply = _core.Op.__dict__["apply"]
        self._installed = classmethod(self._timed_apply(self._saved_apply.__func__))
        _core.Op.apply = self._installed
        if self._with_scopes:
            from ..module import Module

            self._saved_call = Module.__dict__["__call__"]
            Module.__call__ = self._timed_call(self._saved_call)
        return self

    def stop(self):
        global _running_profiler
        assert _running_profiler is self, "Profiler: this profiler is not running"
        _running_profiler = None
        if _core.Op.__dict__["apply"] is self._installed:
            _core.Op.apply = self._saved_apply
        else:  # someone (mge.dtr.enable/disable) replaced Op.apply meanwhile: leave theirs
            get_logger(__name__).warning("Profiler: Op.apply was replaced while profiling "
                                         "(dtr enabled or disabled?); not restoring it")
        if self._saved_call is not None:
            from ..module import Module

            Module.__call__ = self._saved_call
            self._saved_call = None
        self.dump()

    def step(self):
        assert _running_profiler is not None, "Profiler: no profiler is running"
        return self

    def dump(self):
        """Write the recorded events to :attr:`path` (done by stop; call again after a
        failure to write)."""
        if not self._events:
            return
        os.makedirs(self._path, exist_ok=True)
        for fmt in self._formats:
            path = self.format_path(self._path, self._pid, fmt)
            with open(path, "w", encoding="utf-8") as f:
                json.dump({"traceEvents": self._events, "displayTimeUnit": "ms"}, f,
                          separators=(",", ":"))
            get_logger(__name__).info("profiling results written to {}".format(path))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.stop()

    def __call__(self, func):
        func = super().__call__(func)
        func.__profiler__ = self
        return func


@contextmanager
def scope(name):
    r"""A named event around a block, inside the running profiler's trace (nothing when no
    profiler runs).

    Args:
        name: the event's name.

    Examples:
        >>> from engine.utils.profiler import scope
        >>> with scope("data"):
        ...     pass
    """
    prof = _running_profiler
    t_start = time.perf_counter()
    try:
        yield
    finally:
        if prof is not None and prof is _running_profiler:
            prof._event(name, "scope", t_start, time.perf_counter(), {})


def profile(*args, **kwargs):
    r"""``@profile`` or ``@profile(path, ...)``: a :class:`Profiler` as a decorator.

    Examples:
        >>> import tempfile
        >>> from engine.utils.profiler import profile
        >>> @profile(tempfile.mkdtemp())
        ... def step():
        ...     return 1
        >>> step()
        1
    """
    if len(args) == 1 and not kwargs and callable(args[0]):
        return Profiler()(args[0])
    return Profiler(*args, **kwargs)


def merge_trace_events(directory):
    r"""Merges the ``<pid>.chrome_timeline.json`` traces of a directory (one per process) into
    ``merge.chrome_timeline.json``, on one clock.

    Args:
        directory: where the traces are.

    Examples:
        >>> import tempfile
        >>> import engine as mge
        >>> from engine.utils.profiler import Profiler, merge_trace_events
        >>> d = tempfile.mkdtemp()
        >>> with Profiler(d):
        ...     _ = mge.tensor([1.0]) + 1
        >>> merge_trace_events(d)
    """
    names = [n for n in os.listdir(directory)
             if n.endswith(".chrome_timeline.json") and n.split(".")[0].isdigit()]
    contents = []
    for n in names:
        with open(os.path.join(directory, n), encoding="utf-8") as f:
            contents.append(json.load(f)["traceEvents"])
    local = [c[0]["args"]["localTime"] for c in contents if c and c[0]["name"] == "Metadata"]
    start = min(local) if local else 0
    events = []
    for c in contents:
        shift = (c[0]["args"]["localTime"] - start) if c and c[0]["name"] == "Metadata" else 0
        for e in c:
            if e["name"] == "Metadata":
                continue
            if "ts" in e:
                e["ts"] = e["ts"] + shift
            events.append(e)
    path = os.path.join(directory, "merge.chrome_timeline.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"traceEvents": events}, f, separators=(",", ":"))
    get_logger(__name__).info("profiling results written to {}".format(path))


def is_profiling():
    r"""Whether a :class:`Profiler` is running.

    Examples:
        >>> from engine.utils.profiler import is_profiling
        >>> is_profiling()
        False
    """
    return _running_profiler is not None
