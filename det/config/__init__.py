"""det.config: plain-Python configs (see base.py) and the built-in ones (BUILTIN_CONFIGS)."""
from .base import BaseConfig, ConfigDict, default_cache_dir
from .loader import (
    BUILTIN_CONFIGS,
    apply_overrides,
    dataset_num_classes,
    dump_config,
    get_config,
    resolve_num_classes,
)

__all__ = [
    "BaseConfig", "ConfigDict", "default_cache_dir", "BUILTIN_CONFIGS", "get_config",
    "apply_overrides", "dump_config", "resolve_num_classes", "dataset_num_classes",
]
