"""mge.save / mge.load: pickle, with tensors stored as numpy arrays.

save writes to a temporary file next to the target and renames it, so an interrupted save
never destroys the previous checkpoint. load(..., weights_only=True) refuses to unpickle
anything but containers, numbers, strings, numpy arrays and tensors: use it for files from
sources you do not trust.
"""
import collections
import io
import os
import pickle
import tempfile
import threading

from . import device as _dev

__all__ = ["save", "load"]

_state = threading.local()


def _current_map_location(saved_device):
    """Device a tensor saved on `saved_device` is loaded to (see load's map_location)."""
    loc = getattr(_state, "map_location", None)
    if loc is None:
        target = saved_device
    elif callable(loc):
        target = loc(saved_device)
    elif isinstance(loc, dict):
        target = loc.get(saved_device, saved_device)
    else:
        target = loc
    target = str(target)
    if target.startswith(("gpu", "cuda")) and not _dev.is_cuda_available():
        raise RuntimeError(f"load: a tensor was saved on {saved_device} but no GPU is available;"
                           " pass map_location='cpu0'")
    return target


def save(obj, f, pickle_module=pickle, pickle_protocol=pickle.DEFAULT_PROTOCOL):
    """Pickle obj to a path (atomically) or a writable binary file object."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".pkl", dir=folder)
        try:
            # mkstemp makes the file 0600; give it the mode a plain open() would (or the mode
            # of the checkpoint it replaces).
            os.fchmod(fd, _target_mode(path))
            with os.fdopen(fd, "wb") as out:
                pickle_module.dump(obj, out, protocol=pickle_protocol)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    else:
        pickle_module.dump(obj, f, protocol=pickle_protocol)


def _target_mode(path):
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


_SAFE = {
    ("builtins", n) for n in ("dict", "list", "tuple", "set", "frozenset", "int", "float",
                              "str", "bytes", "bool", "complex", "slice", "range")
} | {
    ("collections", "OrderedDict"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("engine.tensor", "_rebuild_tensor"), ("engine.tensor", "Tensor"),
    ("engine.tensor", "Parameter"), ("engine.device", "get"),
}


def _engine_module(module):
    """A module a MegEngine checkpoint names (megengine.tensor, megengine.module.conv, ...) as
    engine's: a file saved by MegEngine 1.x loads without MegEngine installed."""
    if module == "megengine" or module.startswith("megengine."):
        return "engine" + module[len("megengine"):]
    return module


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return super().find_class(_engine_module(module), name)


class _WeightsUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        module = _engine_module(module)
        if (module, name) in _SAFE or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"load(weights_only=True): refusing to unpickle {module}.{name}; only containers, "
            "numbers, strings, numpy arrays and tensors are allowed. Load with "
            "weights_only=False only if you trust the file's source")


def load(f, map_location=None, pickle_module=pickle, weights_only=False):
    """Unpickle from a path or a readable binary file object.

    map_location: None (the saved device), a device name, a dict {saved: target} or a
    callable saved_device -> target device.
    weights_only: allow only plain data, numpy arrays and tensors (safe for untrusted files).
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return load(fh, map_location, pickle_module, weights_only)
    prev = getattr(_state, "map_location", None)
    _state.map_location = map_location
    try:
        if weights_only:
            return _WeightsUnpickler(f).load()
        if pickle_module is pickle:
            return _Unpickler(f).load()
        return pickle_module.load(f)
    finally:
        _state.map_location = prev


del collections, io
