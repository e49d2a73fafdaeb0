"""The one CPU thread pool: engine's OpenMP team runs every native kernel, GEMMs included (csrc
has its own GEMM, so no BLAS pool competes for the cores).

Its size, decided once at import:
  ENGINE_NUM_THREADS if set, else OMP_NUM_THREADS if set, else the cores this process may use:
  its CPU affinity mask, capped by a cgroup CPU quota (a container limited to 2 CPUs on a
  64-core host gets 2 threads, not 64). `engine.set_num_threads(n)` changes it at run time.

Idle threads spin briefly (~0.1 ms) and then sleep, unless the user set OMP_WAIT_POLICY or
GOMP_SPINCOUNT (engine/_native.py says why), so a loaded machine's cores go to the work.
"""
import math
import os
import warnings

from ._native import _C


def _cgroup_cpu_limit():
    """CPUs allowed by a cgroup quota (v2 cpu.max or v1 cfs quota/period), or None."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            return float(quota) / float(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def usable_cores():
    """Cores this process may run on: the affinity mask, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    limit = _cgroup_cpu_limit()
    if limit is not None:
        cores = min(cores, max(1, math.ceil(limit)))
    return max(1, cores)


def _from_env(name):
    """A positive thread count from an environment variable, or None (unset, or not a positive
    integer: then a warning, and the next rule decides)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        n = int(value.split(",")[0])  # OMP_NUM_THREADS may list per-level counts
    except ValueError:
        n = 0
    if n < 1:
        warnings.warn(f"{name}={value!r} is not a positive number of threads; ignored",
                      RuntimeWarning, stacklevel=2)
        return None
    return n


def default_num_threads():
    for name in ("ENGINE_NUM_THREADS", "OMP_NUM_THREADS"):
        n = _from_env(name)
        if n is not None:
            return n
    return usable_cores()


def set_num_threads(n):
    """Threads for engine's CPU kernels (all of them: one pool). Like torch.set_num_threads."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    if _C is not None:
        _C.set_num_threads(n)


def get_num_threads():
    """Threads engine's CPU kernels use now."""
    return _C.get_num_threads() if _C is not None else 1


if _C is not None:
    _C.set_num_threads(default_num_threads())
