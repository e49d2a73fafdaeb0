"""`mge.dtr`: MegEngine's DTR switch and settings (eviction_threshold, evictee_minimum_size,
enable_sqrt_sampling, in its units), and the statistics. engine/dtr/__init__.py makes this
the class of the `engine.dtr` module."""
import re
import types

import numpy as np

from . import hooks
from . import state as S

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(value, name="eviction_threshold"):
    """Bytes from an int or a string like "2GB", "512 MiB", "1.5g" (1024-based)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"dtr: {name} must be non-negative, got {value}")
        return int(value)
    if isinstance(value, str):
        m = _SIZE.match(value)
        if m:
            return int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    raise ValueError(f"dtr: {name} must be a byte count (int) or a string like '2GB', "
                     f"'512MB', '1.5GiB', got {value!r}")


class DTRModule(types.ModuleType):
    """The class of the `engine.dtr` module itself, so that the module is MegEngine's switch:
    `mge.dtr(...)` or `with mge.dtr(...):` turns DTR on, `mge.dtr.enable()` /
    `mge.dtr.disable()`, and its settings are attributes (`mge.dtr.eviction_threshold = "2GB"`)."""

    def __call__(self, eviction_threshold=None, evictee_minimum_size=None,
                 enable_sqrt_sampling=None):
        if eviction_threshold is not None:
            self.eviction_threshold = eviction_threshold
        if evictee_minimum_size is not None:
            self.evictee_minimum_size = evictee_minimum_size
        if enable_sqrt_sampling is not None:
            self.enable_sqrt_sampling = enable_sqrt_sampling
        self.enable()
        return self

    def __enter__(self):
        self.enable()
        return self

    def __exit__(self, *exc):
        self.disable()

    @property
    def eviction_threshold(self):
        return S.threshold

    @eviction_threshold.setter
    def eviction_threshold(self, value):
        S.threshold = parse_size(value, "eviction_threshold")
        S.allowance.clear()  # a new threshold: whether it can be met is measured afresh

    @property
    def evictee_minimum_size(self):
        return S.min_size

    @evictee_minimum_size.setter
    def evictee_minimum_size(self, value):
        S.min_size = parse_size(value, "evictee_minimum_size")

    @property
    def enable_sqrt_sampling(self):
        return S.sqrt_sampling

    @enable_sqrt_sampling.setter
    def enable_sqrt_sampling(self, value):
        S.sqrt_sampling = bool(value)

    @property
    def enabled(self):
        return S.enabled

    def enable(self):
        if not S.enabled:
            S.allowance.clear()
            hooks.install()
            S.enabled = True

    def disable(self):
        """Back to the plain op path. Storages already evicted still rematerialise on access."""
        if S.enabled:
            hooks.uninstall()
            S.enabled = False

    def stats(self):
        """evictions, recomputations, recompute_seconds, evicted_bytes, and over_budget (times
        nothing evictable was left while over the threshold)."""
        return dict(S.stats)

    def reset_stats(self):
        for k in S.stats:
            S.stats[k] = 0.0 if k == "recompute_seconds" else 0

    def __repr__(self):
        return (f"dtr(enabled={S.enabled}, eviction_threshold={S.threshold}, "
                f"evictee_minimum_size={S.min_size}, enable_sqrt_sampling={S.sqrt_sampling})")

