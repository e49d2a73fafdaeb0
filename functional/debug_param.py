"""F.debug_param: the execution strategy MegEngine uses to choose conv/matmul algorithms.

No effect in engine: every op has one algorithm, which is deterministic. The strategy is kept in
engine.config (benchmark_kernel = PROFILE, deterministic_kernel = REPRODUCIBLE), as in MegEngine,
and read back exactly as it was set.
"""
import enum
import os

from .. import config as _config

__all__ = ["get_execution_strategy", "set_execution_strategy", "Strategy"]


class Strategy(enum.Flag):
    """Algorithm choice flags; combine them with ``|``."""

    HEURISTIC = 1
    PROFILE = 2
    REPRODUCIBLE = 4
    OPTIMIZED = 8


_valid_string_option = {"REPRODUCIBLE": Strategy.REPRODUCIBLE, "HEURISTIC": Strategy.HEURISTIC,
                        "PROFILE": Strategy.PROFILE}


def get_execution_strategy():
    r"""Returns the execution strategy of :class:`~.module.Conv2d` and :func:`~.matmul`.

    See :func:`~.set_execution_strategy` for possible return values. No effect in engine (one
    algorithm per op); the value is the one set.

    Returns:
        a :class:`Strategy`: PROFILE or HEURISTIC, with REPRODUCIBLE when it was asked for.

    Examples:
        >>> import engine.functional as F
        >>> F.debug_param.get_execution_strategy()
        <Strategy.HEURISTIC: 1>
    """
    strategy = Strategy.PROFILE if _config._benchmark_kernel else Strategy.HEURISTIC
    if _config._deterministic_kernel:
        strategy |= Strategy.REPRODUCIBLE
    return strategy


def set_execution_strategy(option):
    r"""Sets the execution strategy of :class:`~.module.Conv2d` and :func:`~.matmul`.

    No effect in engine: each op has one algorithm, and it is reproducible. The option is
    checked as MegEngine checks it and kept (in ``engine.config``).

    Args:
        option: Decides how :class:`~.module.Conv2d` and :func:`~.matmul` algorithms are chosen.
            A :class:`Strategy`, or one of the strings "HEURISTIC", "PROFILE", "REPRODUCIBLE",
            or several of them joined by "_" (e.g. "PROFILE_REPRODUCIBLE").

    Examples:
        >>> import engine.functional as F
        >>> F.debug_param.set_execution_strategy("PROFILE_REPRODUCIBLE")
        >>> F.debug_param.get_execution_strategy() == (F.debug_param.Strategy.PROFILE
        ...                                            | F.debug_param.Strategy.REPRODUCIBLE)
        True
        >>> F.debug_param.set_execution_strategy("HEURISTIC")
    """
    if isinstance(option, Strategy):
        _config._benchmark_kernel = bool(option & Strategy.PROFILE)
        _config._deterministic_kernel = bool(option & Strategy.REPRODUCIBLE)
        return
    assert isinstance(option, str), (
        f"set_execution_strategy: option must be a Strategy or a str, got {type(option).__name__}")
    benchmark = deterministic = False
    for opt in option.split("_"):
        if opt not in _valid_string_option:
            raise ValueError("Valid option can only be one of {}, or combine them with '_'."
                             .format(_valid_string_option.keys()))
        benchmark |= _valid_string_option[opt] == Strategy.PROFILE
        deterministic |= _valid_string_option[opt] == Strategy.REPRODUCIBLE
    _config._benchmark_kernel = benchmark
    _config._deterministic_kernel = deterministic


if os.getenv("MEGENGINE_EXECUTION_STRATEGY"):
    set_execution_strategy(os.getenv("MEGENGINE_EXECUTION_STRATEGY"))
