"""Profiler: a Chrome-trace timeline of every op engine runs (open it in Perfetto or
chrome://tracing).

    with Profiler("profile"):           # or @Profiler() on a function
        train_step()
    # -> profile/<pid>.chrome_timeline.json

Zero cost while off: starting a profiler swaps `Op.apply` (the one entry of every op) for a
timed wrapper, and stopping puts back what was there, the same way DTR hooks in. Each op
application becomes one complete event ("ph": "X") with its wall time and input shapes; with
`with_scopes=True` each Module call becomes an enclosing event too, and `scope(name)` marks any
block of user code. engine runs ops synchronously, so the op's wall time is its run time (on the
GPU the wrapper synchronises the device after each op while profiling, so the time is the
kernel's, not the launch's).
"""
import json
import os
import re
import threading
import time
from contextlib import ContextDecorator, contextmanager

import numpy as np

from ..ops import core

_running = None          # the Profiler recording now (one at a time, as in MegEngine)


class Profiler(ContextDecorator):
    """Records a timeline of ops (and optionally module calls) while active.

    Args:
        path: folder the timeline is written to, as ``<path>/<pid>.chrome_timeline.json``.
        format: the output format; engine writes "chrome_timeline.json".
        formats: a list of formats (overrides `format`); only "chrome_timeline.json" is
            supported (MegEngine's "memory_flow.svg" is refused with a clear error).
        with_backtrace: also record the Python file:line that launched each op.
        with_scopes: also record an event per Module call (its class and name).
        kwargs: MegEngine's options sample_rate, profile_device, num_tensor_watch,
            enable_cupti are accepted and kept in ``options``; they have no effect in engine.

    Examples:
        >>> import tempfile
        >>> import engine.functional as F
        >>> from engine.utils.profiler import Profiler
        >>> folder = tempfile.mkdtemp()
        >>> with Profiler(folder) as prof:
        ...     y = F.exp(mge.tensor([1.0, 2.0])) + 1
        >>> sorted({e["name"] for e in prof.events if e.get("cat") == "op"})
        ['Add', 'Exp']
    """

    CHROME_TIMELINE = "chrome_timeline.json"
    valid_options = {"sample_rate": 0, "profile_device": 1, "num_tensor_watch": 10,
                     "enable_cupti": 0}
    valid_formats = {"chrome_timeline.json"}

    def __init__(self, path="profile", format="chrome_timeline.json", formats=None,
                 with_backtrace=False, with_scopes=False, **kwargs):
        formats = [format] if not formats else formats
        if isinstance(formats, str):
            raise TypeError("Profiler: formats expects a list of format names, got a str")
        for f in formats:
            if f not in self.valid_formats:
                raise ValueError(f"Profiler: unsupported format {f!r}; engine writes "
                                 f"{sorted(self.valid_formats)}")
        unknown = set(kwargs) - set(self.valid_options)
        if unknown:
            raise TypeError(f"Profiler: unknown options {sorted(unknown)}; MegEngine's are "
                            f"{sorted(self.valid_options)}")
        self._path = path
        self._formats = list(formats)
        self.options = {k: int(kwargs.get(k, v)) for k, v in self.valid_options.items()}
        self.with_backtrace = with_backtrace
        self.with_scopes = with_scopes
        self.events = []
        self._pid = os.getpid()
        self._saved_apply = None
        self._saved_call = None
        self._t0 = 0.0

    @property
    def path(self):
        return self.format_path(self._path, self._pid, self._formats[0])

    @property
    def directory(self):
        return self._path

    @property
    def formats(self):
        return list(self._formats)

    def format_path(self, path, pid, format):
        return os.path.join(path, f"{pid}.{format}")

    # ------------------------------------------------------------------ recording
    def start(self):
        global _running
        if _running is not None:
            raise RuntimeError("Profiler.start: another Profiler is already recording")
        _running = self
        self._pid = os.getpid()
        self.events = [{"name": "Metadata", "ph": "M", "pid": self._pid, "tid": 0,
                        "args": {"localTime": time.time() * 1e6}}]
        self._t0 = time.perf_counter()
        self._saved_apply = core.Op.__dict__["apply"]
        core.Op.apply = classmethod(_timed(self, self._saved_apply.__func__))
        core.apply_hooks += 1
        if self.with_scopes:
            from ..module import Module

            self._saved_call = Module.__dict__["__call__"]
            Module.__call__ = _scoped_call(self, self._saved_call)
        return self

    def stop(self):
        global _running
        if _running is not self:
            raise RuntimeError("Profiler.stop: this Profiler is not recording")
        _running = None
        if getattr(core.Op.apply, "__func__", None) is not None and \
                getattr(core.Op.apply.__func__, "_profiler", None) is self:
            core.Op.apply = self._saved_apply  # (unless DTR swapped it meanwhile: keep DTR's)
        core.apply_hooks -= 1
        if self._saved_call is not None:
            from ..module import Module

            Module.__call__ = self._saved_call
            self._saved_call = None
        self.dump()

    def step(self):
        """Marks the end of one step on the timeline (an instant event)."""
        self._instant("step")
        return self

    def dump(self):
        """Writes the timeline (a temporary file renamed into place: a reader never sees half a
        file). Called by stop(); only the last recording is kept, as in MegEngine."""
        os.makedirs(self._path, exist_ok=True)
        target = self.path
        tmp = f"{target}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"traceEvents": self.events, "displayTimeUnit": "ms"}, f)
        os.replace(tmp, target)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def __call__(self, func):
        func = super().__call__(func)
        func.__profiler__ = self
        return func

    # ------------------------------------------------------------------- events
    def _now_us(self):
        return (time.perf_counter() - self._t0) * 1e6

    def _complete(self, name, cat, start_us, args):
        self.events.append({"name": name, "cat": cat, "ph": "X", "ts": start_us,
                            "dur": self._now_us() - start_us, "pid": self._pid,
                            "tid": threading.get_ident() % 100000, "args": args})

    def _instant(self, name):
        self.events.append({"name": name, "ph": "i", "s": "p", "ts": self._now_us(),
                            "pid": self._pid, "tid": threading.get_ident() % 100000})


def _sync(inputs):
    device = inputs[0]._storage.device if inputs else None
    if device is not None and device.xp is not np:  # a CuPy device: wait for the kernel
        device.xp.cuda.Device(device.index).synchronize()


def _timed(prof, apply):
    def timed_apply(cls, *inputs, **attrs):
        start = prof._now_us()
        out = apply(cls, *inputs, **attrs)
        _sync(inputs)
        args = {"inputs": [str(tuple(t.shape)) for t in inputs]}
        if attrs:
            args["attrs"] = {k: repr(v)[:80] for k, v in attrs.items()}
        if prof.with_backtrace:
            args["backtrace"] = _caller()
        prof._complete(cls.__name__, "op", start, args)
        return out

    timed_apply._profiler = prof
    return timed_apply


def _scoped_call(prof, call):
    def profiled_call(module, *inputs, **kwargs):
        start = prof._now_us()
        out = call(module, *inputs, **kwargs)
        prof._complete(type(module).__name__, "module", start, {})
        return out

    return profiled_call


def _caller():
    import traceback

    for frame in reversed(traceback.extract_stack(limit=12)[:-2]):
        if f"{os.sep}engine{os.sep}" not in frame.filename:
            return f"{frame.filename}:{frame.lineno}"
    return ""


@contextmanager
def scope(name):
    """Marks a block of user code on the timeline of the running Profiler (no-op otherwise)."""
    prof = _running
    if prof is None:
        yield
        return
    start = prof._now_us()
    try:
        yield
    finally:
        prof._complete(name, "scope", start, {})


def profile(*args, **kwargs):
    """`@profile` or `@profile(path, ...)`: a Profiler as a decorator.

    Args:
        args, kwargs: the function to profile, or the arguments of :class:`Profiler`.

    Returns:
        the decorated function, or the Profiler to decorate with.

    Examples:
        >>> import os, tempfile
        >>> from engine.utils.profiler import profile
        >>> folder = tempfile.mkdtemp()
        >>> @profile(folder)
        ... def step(x):
        ...     return F.exp(x) + 1
        >>> _ = step(Tensor([1.0]))
        >>> [name.endswith(".chrome_timeline.json") for name in os.listdir(folder)]
        [True]
    """
    if len(args) == 1 and not kwargs and callable(args[0]):
        return Profiler()(args[0])
    return Profiler(*args, **kwargs)


def merge_trace_events(directory):
    """Merges the <pid>.chrome_timeline.json files of one folder (one per process) into
    `directory`/merge_trace_events.json, aligned on each file's start time.

    Args:
        directory: the folder the Profilers wrote to.

    Returns:
        the merged file's path; a ValueError when the folder holds no timeline.

    Examples:
        >>> import os, tempfile
        >>> from engine.utils.profiler import Profiler, merge_trace_events
        >>> folder = tempfile.mkdtemp()
        >>> with Profiler(folder):
        ...     _ = F.exp(Tensor([1.0]))
        >>> os.path.basename(merge_trace_events(folder))
        'merge_trace_events.json'
    """
    names = sorted(n for n in os.listdir(directory)
                   if re.fullmatch(r"\d+\.chrome_timeline\.json", n))
    contents = []
    for n in names:
        with open(os.path.join(directory, n), encoding="utf-8") as f:
            contents.append(json.load(f)["traceEvents"])
    starts = [c[0]["args"]["localTime"] for c in contents if c and c[0]["name"] == "Metadata"]
    if not starts:
        raise ValueError(f"merge_trace_events: no timeline files in {directory}")
    first = min(starts)
    merged = []
    for c in contents:
        shift = c[0]["args"]["localTime"] - first
        merged += [dict(e, ts=e["ts"] + shift) if "ts" in e else e for e in c[1:]]
    out = os.path.join(directory, "merge_trace_events.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"traceEvents": merged}, f)
    return out
