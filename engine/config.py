"""engine.config: MegEngine's global execution knobs, read and set as module attributes.

    import engine as mge
    mge.config.async_level = 0
    with mge.config._override(benchmark_kernel=True): ...

engine runs every op synchronously and has one algorithm per op, so none of these knobs changes
what engine computes or how: each is accepted, validated as MegEngine validates it, and keeps
the value it was given, for code that reads it back. `functional.debug_param`'s execution
strategy reads and writes benchmark_kernel and deterministic_kernel.
"""
import sys
import types
from contextlib import contextmanager

# the knobs are properties of this module's class (below), which ruff cannot see
__all__ = [
    "benchmark_kernel", "benchmark_with_subprocess", "deterministic_kernel", "async_level",  # noqa: F822
    "disable_memory_forwarding", "_compute_mode", "_auto_format_convert", "_override",  # noqa: F822
]

# The values live here; the module's properties below read and write them.
_benchmark_kernel = False
_deterministic_kernel = False
_benchmark_with_subprocess = False
_async_level = 2
_disable_memory_forwarding = False
_compute_mode_value = "default"
_bn_format_value = "dim_1c11"
_auto_format_convert_value = False


def _check_async_level(level):
    # MegEngine asserts the range; a bool or non-int is a mistake it would also reject.
    assert isinstance(level, int) and 0 <= level <= 2, "async_level should be 0, 1 or 2"


class _ConfigModule(types.ModuleType):
    @property
    def benchmark_kernel(self):
        r"""Whether or not run possible algorithms on real device to find the best one. The
        default option is false, which means use heuristic to choose the fastest algorithm.

        No effect in engine: every op has one algorithm. The value is kept.

        Examples:
            >>> import engine as mge
            >>> mge.config.benchmark_kernel
            False
        """
        return _benchmark_kernel

    @benchmark_kernel.setter
    def benchmark_kernel(self, option):
        global _benchmark_kernel
        _benchmark_kernel = option

    @property
    def deterministic_kernel(self):
        r"""Whether or not the fastest algorithm chosen is reproducible. The default option is
        false, which means the algorithm is not reproducible.

        No effect in engine: its kernels are deterministic already. The value is kept.

        Examples:
            >>> import engine as mge
            >>> mge.config.deterministic_kernel
            False
        """
        return _deterministic_kernel

    @deterministic_kernel.setter
    def deterministic_kernel(self, option):
        global _deterministic_kernel
        _deterministic_kernel = option

    @property
    def benchmark_with_subprocess(self):
        r"""Whether kernel benchmarking runs in a subprocess. No effect in engine (there is no
        benchmarking); the value is kept.

        Examples:
            >>> import engine as mge
            >>> mge.config.benchmark_with_subprocess
            False
        """
        return _benchmark_with_subprocess

    @benchmark_with_subprocess.setter
    def benchmark_with_subprocess(self, option):
        global _benchmark_with_subprocess
        _benchmark_with_subprocess = option

    @property
    def async_level(self):
        r"""Get or set config whether raise error exactly when invoking op. The default level
        is 2, which means both device and user side errors are async.

        No effect in engine: ops run synchronously, so errors are always raised where the op is
        called (as with level 0). The value (0, 1 or 2) is kept.

        Examples:
            >>> import engine as mge
            >>> mge.config.async_level
            2
        """
        return _async_level

    @async_level.setter
    def async_level(self, level):
        global _async_level
        _check_async_level(level)
        _async_level = level

    @property
    def disable_memory_forwarding(self):
        r"""Get or set config whether to disable memory forwarding. The default option is
        false, which means storage may be shared among tensors.

        No effect in engine: views (reshape, transpose, detach) always share storage. The value
        is kept, as a bool.

        Examples:
            >>> import engine as mge
            >>> mge.config.disable_memory_forwarding
            False
        """
        return bool(_disable_memory_forwarding)

    @disable_memory_forwarding.setter
    def disable_memory_forwarding(self, disable):
        global _disable_memory_forwarding
        _disable_memory_forwarding = bool(disable)

    @property
    def _compute_mode(self):
        r"""Precision of intermediate results of conv and matmul ("default" or "float32").
        No effect in engine beyond what each op does itself; the value is kept."""
        return _compute_mode_value

    @_compute_mode.setter
    def _compute_mode(self, mode):
        global _compute_mode_value
        _compute_mode_value = mode

    @property
    def _bn_format(self):
        r"""BatchNorm parameter layout ("dim_1c11" for NCHW). No effect in engine; kept."""
        return _bn_format_value

    @_bn_format.setter
    def _bn_format(self, fmt):
        global _bn_format_value
        _bn_format_value = fmt

    @property
    def _auto_format_convert(self):
        r"""Whether indexing params are converted for NHWC tensors. No effect in engine; kept."""
        return _auto_format_convert_value

    @_auto_format_convert.setter
    def _auto_format_convert(self, option):
        global _auto_format_convert_value
        _auto_format_convert_value = bool(option)


def set_auto_format_convert(option):
    """MegEngine's switch (core2 / core._config) for converting indexing parameters of NHWC
    tensors; returns the previous value. No effect in engine, which keeps NCHW data whatever the
    format tag (the value is kept and read back)."""
    global _auto_format_convert_value
    old, _auto_format_convert_value = _auto_format_convert_value, bool(option)
    return old


def get_auto_format_convert():
    """The value set_auto_format_convert keeps (no effect in engine)."""
    return _auto_format_convert_value


def _reset_execution_config(benchmark_kernel=None, deterministic_kernel=None, async_level=None,
                            compute_mode=None):
    """Set the given knobs (None leaves one as it is); return all four as they were."""
    global _benchmark_kernel, _deterministic_kernel, _async_level, _compute_mode_value
    orig = (_benchmark_kernel, _deterministic_kernel, _async_level, _compute_mode_value)
    if async_level is not None:
        _check_async_level(async_level)
        _async_level = async_level
    if benchmark_kernel is not None:
        _benchmark_kernel = benchmark_kernel
    if deterministic_kernel is not None:
        _deterministic_kernel = deterministic_kernel
    if compute_mode is not None:
        _compute_mode_value = compute_mode
    return orig


@contextmanager
def _override(benchmark_kernel=None, deterministic_kernel=None, async_level=None,
              compute_mode=None):
    r"""A context manager (or decorator) that sets the given config values for its block and
    restores the previous ones after it. A None argument leaves that value as it is.

    Args:
        benchmark_kernel: see :attr:`benchmark_kernel`.
        deterministic_kernel: see :attr:`deterministic_kernel`.
        async_level: see :attr:`async_level`.
        compute_mode: see ``_compute_mode``.

    Examples:
        >>> import engine as mge
        >>> with mge.config._override(benchmark_kernel=True, async_level=0):
        ...     print(mge.config.benchmark_kernel, mge.config.async_level)
        True 0
        >>> print(mge.config.benchmark_kernel, mge.config.async_level)
        False 2
    """
    orig = _reset_execution_config(benchmark_kernel, deterministic_kernel, async_level,
                                   compute_mode)
    try:
        yield
    finally:
        _reset_execution_config(*orig)


def _get_actual_op_param(function_param, config_param):
    return function_param if config_param == "default" else config_param


sys.modules[__name__].__class__ = _ConfigModule
