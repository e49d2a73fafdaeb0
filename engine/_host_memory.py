"""Freed host memory stays in the process for the next step (see csrc/cpu/host_memory.cpp).

Each training step frees and allocates the same activation buffers. With glibc's default
policy the large ones are mmap'd afresh every step, and the kernel faults in and zeroes
~170 MB per step of bench/train_step_cpu.py (0.12-0.15 s of system time against a 0.45 s step).
At import engine asks glibc to serve blocks up to 32 MiB from the heap and to trim a free heap
top only above a quarter of the machine's memory (at most 2 GiB), so the pages are reused.

The cost is resident memory: after a step the process keeps what that step's peak needed, as
a caching allocator does. `release()` hands the free pages back now.

Knobs: ENGINE_HOST_MEMORY_CACHE=0 leaves malloc as the C library configures it. engine also
leaves it alone where the user already tuned malloc (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_, or a glibc.malloc tunable in GLIBC_TUNABLES), and off glibc.
"""
import os

from ._native import _C

_USER_MALLOC_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")


def _user_tuned_malloc():
    return (any(name in os.environ for name in _USER_MALLOC_SETTINGS)
            or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""))


def trim_threshold_bytes():
    """A free heap top above this goes back to the kernel: a quarter of RAM, at most 2 GiB."""
    try:
        ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        ram = 8 << 30
    return int(min(ram // 4, (2 << 30) - 1))


def enabled_by_env():
    return os.environ.get("ENGINE_HOST_MEMORY_CACHE", "1").strip().lower() not in (
        "0", "off", "false", "no")


def install():
    """Apply the policy once, at import; True when glibc took it."""
    if _C is None or not enabled_by_env() or _user_tuned_malloc():
        return False
    return bool(_C.keep_freed_host_memory(trim_threshold_bytes()))


def release():
    """Give the process's free heap pages back to the kernel now (glibc's malloc_trim)."""
    return bool(_C.release_free_host_memory()) if _C is not None else False


INSTALLED = install()
