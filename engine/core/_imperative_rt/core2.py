"""engine.core._imperative_rt.core2: ``apply`` (run an op descriptor), TensorWeakRef, sync, and
the frame helpers of MegEngine's profiler (_mge_backtrace, _get_frame_cache_id)."""
import itertools
import sys
import threading
import weakref

__all__ = ["apply", "TensorWeakRef", "sync", "create_complex", "_mge_backtrace",
           "_get_frame_cache_id", "AsyncError"]


class AsyncError(RuntimeError):
    """MegEngine's error for an op that failed in its asynchronous worker, reported at a later
    sync. engine runs every op synchronously, so an op's error is raised by the op itself (with
    its own type) and this is never raised; it exists for code that catches it."""


def apply(op, *inputs):
    """Runs op descriptor `op` (engine.core.ops.builtin) on `inputs`; returns a tuple of Tensors.

    Examples:
        >>> import engine as mge
        >>> from engine.core._imperative_rt.core2 import apply
        >>> from engine.core.ops.builtin import Elemwise
        >>> (y,) = apply(Elemwise(mode="add"), mge.tensor([1.0]), mge.tensor([2.0]))
        >>> y.numpy()
        array([3.], dtype=float32)
    """
    from ..ops.builtin import OpDef

    if not isinstance(op, OpDef):
        raise TypeError(f"apply: expected an op descriptor of engine.core.ops.builtin, got "
                        f"{type(op).__name__}")
    return tuple(op._run(*inputs))


class TensorWeakRef:
    """A weak reference to a Tensor: calling it gives the Tensor, or None once it is freed."""

    def __init__(self, tensor):
        self._ref = weakref.ref(tensor)

    def __call__(self):
        return self._ref()


def sync():
    """Waits for every device's pending work (engine._full_sync)."""
    from ... import _full_sync

    _full_sync()


def create_complex(real, imag):
    """real + 1j * imag as a complex64 Tensor (F.complex)."""
    import engine.functional as F

    return F.complex(real, imag)


def _mge_backtrace():
    """The caller's Python stack, outermost frame first, one ``File "f", line n, in name`` line
    per frame (each line ends with a newline). A generator's frame follows the frame that
    resumed it."""
    frames = []
    f = sys._getframe(1)
    while f is not None:
        frames.append(f)
        f = f.f_back
    return "".join(f'File "{f.f_code.co_filename}", line {f.f_lineno}, in {f.f_code.co_name}\n'
                   for f in reversed(frames))


_thread_ids = itertools.count()
_local = threading.local()


def _get_frame_cache_id():
    """An id of the calling thread, unique over the process's life (thread idents are reused)."""
    cid = getattr(_local, "cache_id", None)
    if cid is None:
        cid = _local.cache_id = next(_thread_ids)
    return cid
