"""MegEngine's interpreter options (``core.set_option`` / ``core.get_option``).

engine runs every op synchronously in Python, with no interpreter queue, so these options
(drop/swap, host compute, record path, ...) have no effect: each is accepted, keeps its value
and reads back. ``async_level`` is engine.config.async_level (validated there).
"""
_options = {
    "async_level": 2, "enable_swap": 0, "enable_drop": 0, "max_recompute_time": 1,
    "catch_worker_execption": 1, "enable_host_compute": 1, "record_computing_path": 0,
    "disable_memory_forwarding": 0, "enable_dtr_auto_drop": 0, "enable_dtr_sqrt_sampling": 0,
    "dtr_eviction_threshold": 0, "dtr_evictee_minimum_size": 1 << 20,
    "dtr_backgroud_free_interval": 0, "buffer_length": 0, "enable_sanity_check": 0,
}


def set_option(name, value):
    """Sets interpreter option `name` (a MegEngine name) to `value`.

    Examples:
        >>> from engine.core import get_option, set_option
        >>> set_option("enable_drop", 1); get_option("enable_drop")
        1
        >>> set_option("enable_drop", 0)
    """
    if name not in _options:
        raise KeyError(f"set_option: unknown option {name!r} (known: {', '.join(_options)})")
    if name == "async_level":
        from .. import config

        config.async_level = int(value)
    _options[name] = int(value)


def get_option(name):
    """The value of interpreter option `name`."""
    if name not in _options:
        raise KeyError(f"get_option: unknown option {name!r} (known: {', '.join(_options)})")
    if name == "async_level":
        from .. import config

        return config.async_level
    return _options[name]
