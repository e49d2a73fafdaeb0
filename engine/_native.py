"""Access to the compiled extension engine._C (built from csrc/ by `pip install -e .`)."""
import os

# How engine's idle OpenMP threads wait between kernels (read once, when the OpenMP runtime
# loads; a user's OMP_WAIT_POLICY or GOMP_SPINCOUNT wins). They spin for ~0.1 ms (10^4 spins),
# then sleep. Sleeping at once (spin 0) costs a futex wake and a reschedule per parallel region,
# ~1700 context switches per step of bench/train_step_cpu.py: 490 ms against 424 ms with the
# short spin. Spinning for long (libgomp's default, ~3 ms) steals cores from other work on a
# shared machine: under two busy processes the step slowed 3.0x at 3*10^4 spins, 2.4x at 10^4,
# torch 2.5-2.6x.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    os.environ["GOMP_SPINCOUNT"] = "10000"

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
