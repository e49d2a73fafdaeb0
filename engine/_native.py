"""Access to the compiled extension engine._C (built from csrc/ by `pip install -e .`)."""
import os

# Our OpenMP loops alternate with numpy's BLAS (its own thread pool). Idle OpenMP threads that
# spin after each loop steal the cores the next GEMM needs: a conv step measured 140 ms spinning
# against 16 ms passive. Only effective when set before the OpenMP runtime loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    from . import _C
    _IMPORT_ERROR = None
except ImportError as e:  # source tree without a build: pure-Python parts still import
    _C = None
    _IMPORT_ERROR = e


def native():
    if _C is None:
        raise ImportError("engine._C is not built (install with `pip install -e .` from the "
                          f"repository root): {_IMPORT_ERROR}")
    return _C


def single_threaded_after_fork():
    """Run native kernels on one thread in a forked child. GNU OpenMP does not survive fork:
    once the parent has run a parallel region, the child's next one waits forever for threads
    that were not copied. Forked workers (engine.data's loader, dist.launcher's ranks) call
    this first; their parallelism is the processes themselves, as in PyTorch."""
    if _C is not None:
        _C.set_num_threads(1)


def stream_ptr(xp):
    """CuPy's current stream, as the integer our CUDA launchers take."""
    return xp.cuda.get_current_stream().ptr
