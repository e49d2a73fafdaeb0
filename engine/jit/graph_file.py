"""engine's graph file: a dumped inference Program (trace.dump) that engine.jit.load runs in a
process that never imports the model's code.

Format, version 1. A zip archive (stored, no compression) holding
    graph.json      {"format": "engine.jit graph", "version": 1, "engine": engine's version,
                     "name", "inputs": [{"name", "slot", "shape", "dtype", "device"}],
                     "outputs": the returned structure, "output_names": [...],
                     "constants": [{"slot", "array"}], "nodes": [...], "user_info",
                     "metadata": MegEngine's model metadata or null (optional)}
    arrays/<n>.npy  every constant and array-valued attribute (numpy's .npy, no pickles)
A node is {"op": "module:Class", "attrs": {...}, "inputs": [slots], "outputs": [slots]} for an
op of engine (only classes of engine's own modules are loaded, so a file cannot name arbitrary
code), or {"random": method, "args": [...], "output": slot} for a draw from engine's RNG.
Values in attrs, args, outputs and user_info are JSON with tags for what JSON lacks:
{"tuple": [...]}, {"array": name}, {"dtype": str}, {"float": "nan"/"inf"/"-inf"},
{"slice": [start, stop, step]}, {"ellipsis": true}, {"out": slot} (a returned Tensor),
{"device": name} (an engine device, "cpu0"),
{"dict": [[key, value], ...]} for a dict whose keys are not all strings.

A reader refuses a newer version by name, and a file that is not a zip, lacks graph.json,
or is cut short (the zip's directory and each member's CRC are checked) with a ValueError
naming the file.
"""
import importlib
import io
import json
import math
import os
import tempfile
import zipfile

import numpy as np

from .. import device as _device
from ..ops import core

FORMAT = "engine.jit graph"
VERSION = 1


class GraphFileError(ValueError):
    """The file is not a graph this engine can read."""


# ------------------------------------------------------------------ values
class _Encoder:
    def __init__(self, where):
        self.where = where   # for errors: what is being written
        self.arrays = {}     # name -> array

    def array(self, a):
        name = f"arrays/{len(self.arrays)}.npy"
        self.arrays[name] = np.array(a, order="C", copy=not a.flags.c_contiguous)  # (keeps 0-d)
        return name

    def value(self, v, what):
        from .program import _Out

        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
            return int(v)
        if isinstance(v, (float, np.floating)) and type(v) in (float, np.float64):
            return float(v) if math.isfinite(v) else {"float": repr(float(v))}
        if isinstance(v, np.generic):  # another numpy scalar keeps its dtype
            return {"array": self.array(np.asarray(v)), "scalar": True}
        if isinstance(v, np.ndarray):
            return {"array": self.array(v)}
        if isinstance(v, tuple):
            return {"tuple": [self.value(x, what) for x in v]}
        if isinstance(v, list):
            return [self.value(x, what) for x in v]
        if isinstance(v, dict):
            if all(isinstance(k, str) for k in v):
                return {"map": {k: self.value(x, what) for k, x in v.items()}}
            return {"dict": [[self.value(k, what), self.value(x, what)] for k, x in v.items()]}
        if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
            return {"dtype": str(np.dtype(v))}  # ("float32", "bfloat16": names, not codes)
        if isinstance(v, slice):
            return {"slice": [self.value(x, what) for x in (v.start, v.stop, v.step)]}
        if v is Ellipsis:
            return {"ellipsis": True}
        if type(v) is _Out:
            return {"out": v.slot}
        if isinstance(v, _device.Device):  # (Copy's target)
            return {"device": str(v)}
        raise TypeError(f"{self.where}: {what} is a {type(v).__name__} ({v!r:.60}), which an "
                        "engine graph file cannot hold")


class _Decoder:
    def __init__(self, archive, where):
        self.archive, self.where = archive, where

    def value(self, v):
        from .program import _Out

        if not isinstance(v, dict):
            return [self.value(x) for x in v] if isinstance(v, list) else v
        (tag, body), *rest = v.items()
        if tag == "tuple":
            return tuple(self.value(x) for x in body)
        if tag == "map":
            return {k: self.value(x) for k, x in body.items()}
        if tag == "dict":
            return {self.value(k): self.value(x) for k, x in body}
        if tag == "array":
            a = self.archive.array(body)
            return a[()] if rest else a
        if tag == "float":
            return float(body)
        if tag == "dtype":
            return _dtype(body, self.where)
        if tag == "slice":
            return slice(*[self.value(x) for x in body])
        if tag == "ellipsis":
            return Ellipsis
        if tag == "out":
            return _Out(slot(body, self.where))
        if tag == "device":
            try:
                return _device.get(str(body))
            except ValueError as e:
                raise GraphFileError(f"{self.where}: {e}") from None
        raise GraphFileError(f"{self.where}: unknown value tag {tag!r}")


def slot(value, where):
    """A value slot read from a file: a non-negative int (slots are pasted into the replay's
    generated source, codegen.py, so nothing else may pass)."""
    if type(value) is not int or value < 0:
        raise GraphFileError(f"{where}: the graph is malformed (slot {value!r} is not a "
                             "non-negative int)")
    return value


# The draws a recorded program can make (engine.random's methods): a file names one of these.
RANDOM_METHODS = frozenset({"uniform", "normal", "gamma", "beta", "poisson", "exponential",
                            "standard_normal", "random", "integers", "binomial"})


def _dtype(name, where):
    from .. import dtype as _dt

    if name == "bfloat16":
        if not _dt._load_bfloat16():
            raise GraphFileError(f"{where}: the graph uses bfloat16, which needs ml_dtypes")
        return np.dtype(_dt.bfloat16)
    try:
        d = np.dtype(name)
    except TypeError:
        raise GraphFileError(f"{where}: unknown dtype {name!r}") from None
    try:  # engine's shared instance where there is one (hot paths test `is float32`)
        c = _dt.canonical(d)
    except TypeError:
        return d
    return c if c == d else d


# ------------------------------------------------------------------ ops by name
def op_name(op):
    """The op's "module:Class" name; only engine's own ops can be written."""
    mod = op.__module__
    if not (mod == "engine" or mod.startswith("engine.")):
        raise TypeError(f"trace.dump: op {op.__qualname__} is defined in {mod}, outside engine; "
                        "a graph file holds only engine's ops")
    return f"{mod}:{op.__qualname__}"


def op_by_name(name, where):
    mod, _, qual = name.partition(":")
    if not (mod == "engine" or mod.startswith("engine.")) or not qual:
        raise GraphFileError(f"{where}: op {name!r} is not one of engine's ops")
    try:
        obj = importlib.import_module(mod)
        for part in qual.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise GraphFileError(f"{where}: this engine has no op {name!r} (the file was written "
                             "by a different engine version?)") from None
    if not (isinstance(obj, type) and issubclass(obj, core.Op)):
        raise GraphFileError(f"{where}: {name!r} is not an op")
    return obj


# ------------------------------------------------------------------ writing
def write(file, graph, arrays):
    """Writes graph (the JSON-ready dict) and its arrays to file (a path or a binary file
    object)."""
    if isinstance(file, (str, os.PathLike)):
        atomic_write(file, lambda f: _write_zip(f, graph, arrays))
    else:
        _write_zip(file, graph, arrays)


def write_bytes(path, data):
    atomic_write(path, lambda f: f.write(data))


def atomic_write(path, fill):
    """fill(binary file) into a temporary file beside path, renamed over path once complete:
    an interrupted or failed write never leaves half a file where a good one was."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".dump-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_zip(f, graph, arrays):
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
        z.writestr("graph.json", json.dumps(graph, allow_nan=False))
        for name, a in arrays.items():
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            z.writestr(name, buf.getvalue())


# ------------------------------------------------------------------ reading
class Archive:
    """An open graph file: its graph.json and its arrays."""

    def __init__(self, file):
        self.where = f"engine.jit.load({file!r})" if isinstance(file, (str, os.PathLike)) else \
            "engine.jit.load"
        try:
            self.zip = zipfile.ZipFile(file)
            raw = self.zip.read("graph.json")
        except FileNotFoundError:
            raise
        except KeyError:
            raise GraphFileError(f"{self.where}: not an engine graph file (no graph.json)") \
                from None
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise GraphFileError(f"{self.where}: not an engine graph file, or cut short ({e})") \
                from None
        try:
            self.graph = json.loads(raw)
        except ValueError as e:
            raise GraphFileError(f"{self.where}: graph.json is not valid JSON ({e})") from None
        fmt = self.graph.get("format") if isinstance(self.graph, dict) else None
        if fmt != FORMAT:
            raise GraphFileError(f"{self.where}: not an engine graph file (format {fmt!r})")
        version = self.graph.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise GraphFileError(f"{self.where}: the file is graph format version {version!r}, "
                                 f"newer than this engine reads (up to {VERSION}); load it with "
                                 f"the engine that wrote it ({self.graph.get('engine', '?')}) "
                                 "or newer")
        self.decode = _Decoder(self, self.where).value

    def array(self, name):
        try:
            if self.zip.getinfo(name).compress_type != zipfile.ZIP_STORED:
                raise GraphFileError(f"{self.where}: array {name} is compressed; engine writes "
                                     "graph files uncompressed and reads only those")
            with self.zip.open(name) as f:
                return np.load(io.BytesIO(f.read()), allow_pickle=False)
        except KeyError:
            raise GraphFileError(f"{self.where}: the file lacks its array {name}") from None
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
            raise GraphFileError(f"{self.where}: array {name} is damaged ({e})") from None

    def close(self):
        self.zip.close()
