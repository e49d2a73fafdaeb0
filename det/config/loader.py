"""Loading configs (built-in name or Python file), KEY=VALUE overrides, dumping, num_classes.

    cfg = get_config("fcos_r18_shapes")              # or get_config("path/to/my_config.py")
    apply_overrides(cfg, ["train.max_iter=100", "model.backbone.depth=34"])
    dump_config(cfg, cfg.output_dir)                 # output_dir/config.py, loadable again
"""
import ast
import difflib
import hashlib
import importlib
import importlib.util
import json
import os
import pprint

from .base import BaseConfig, ConfigDict

__all__ = [
    "BUILTIN_CONFIGS", "get_config", "apply_overrides", "dump_config", "resolve_num_classes",
    "dataset_num_classes",
]

BUILTIN_CONFIGS = ("fcos_r18_shapes", "retinanet_r18_shapes", "fcos_r50", "retinanet_r50")


# ----------------------------------------------------------------------------- loading
def get_config(name_or_path):
    """A config instance from a built-in name or a Python file.

    A file defines `class Config(BaseConfig)` (usually derived from a built-in one), or a dict
    `config = {...}` whose sections are merged into the config named by its optional "_base_"
    key (a built-in name or a path; default BaseConfig).
    """
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(f"get_config: expected a built-in name or a path, got "
                        f"{type(name_or_path).__name__}")
    name = os.fspath(name_or_path)
    if name in BUILTIN_CONFIGS:
        return importlib.import_module(f"det.config.{name}").Config()
    if not name.endswith(".py") or not os.path.isfile(name):
        known = ", ".join(BUILTIN_CONFIGS)
        what = "no such file" if name.endswith(".py") else "not a built-in config name"
        raise FileNotFoundError(f"config {name!r}: {what}. Use a built-in name ({known}) or the "
                                f"path of a Python config file")
    return _from_file(name)


def _from_file(path):
    path = os.path.abspath(path)
    # a unique module name per file, so two configs never share one module
    mod_name = "det_config_" + hashlib.sha1(path.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls = getattr(module, "Config", None)
    if isinstance(cls, type) and issubclass(cls, BaseConfig):
        return cls()
    data = getattr(module, "config", None)
    if isinstance(data, dict):
        data = dict(data)
        base = data.pop("_base_", None)
        cfg = BaseConfig() if base is None else get_config(
            base if base in BUILTIN_CONFIGS or os.path.isabs(base)
            else os.path.join(os.path.dirname(path), base))
        for key, value in data.items():
            current = getattr(cfg, key, None)
            if isinstance(current, ConfigDict) and isinstance(value, dict):
                _merge(current, value)
            else:
                setattr(cfg, key, value)
        return cfg
    raise TypeError(f"config file {path}: defines neither `class Config(BaseConfig)` nor a dict "
                    f"`config = {{...}}`")


def _merge(dst, src):
    for k, v in src.items():
        if isinstance(dst.get(k), ConfigDict) and isinstance(v, dict):
            _merge(dst[k], v)
        else:
            dst[k] = v


# --------------------------------------------------------------------------- overrides
def apply_overrides(cfg, overrides):
    """Apply ["a.b=VALUE", ...] to cfg in place and return it.

    VALUE is a Python literal (3, 0.1, True, None, (1, 2), [1, 2], 'text') or, for string keys,
    bare text. It must fit the current value's type: int keys take ints, float keys ints or
    floats, bool keys True/False, str keys text (or None), list/tuple keys a list or tuple
    (elements checked against the current ones), keys that are None anything. Unknown keys are
    an error naming the key and the ones that exist.
    """
    for item in overrides:
        if not isinstance(item, str) or "=" not in item or item.startswith("="):
            raise ValueError(f"config override {item!r}: expected KEY=VALUE, e.g. "
                             f"train.max_iter=1000")
        key, text = item.split("=", 1)
        key = key.strip()
        container, last = _locate(cfg, key)
        old = getattr(container, last) if container is cfg else container[last]
        value = _coerce(key, old, text.strip())
        if container is cfg:
            setattr(cfg, last, value)
        else:
            container[last] = value
    return cfg


def _locate(cfg, key):
    """(container, last key) for a dotted key; unknown parts raise KeyError naming them."""
    parts = key.split(".")
    if any(not p for p in parts):
        raise KeyError(f"config override: malformed key {key!r}")
    container, prefix = cfg, ""
    for i, part in enumerate(parts):
        keys = list(cfg.keys()) if container is cfg else list(container)
        if part not in keys:
            where = f"section {prefix!r}" if prefix else "the config"
            hint = difflib.get_close_matches(part, keys, n=1)
            hint = f" Did you mean {hint[0]!r}?" if hint else ""
            raise KeyError(f"unknown config key {key!r}: {where} has no key {part!r} (it has: "
                           f"{', '.join(map(str, keys))}).{hint}")
        if i == len(parts) - 1:
            return container, part
        value = getattr(cfg, part) if container is cfg else container[part]
        prefix = f"{prefix}.{part}" if prefix else part
        if not isinstance(value, dict):
            raise KeyError(f"unknown config key {key!r}: {prefix!r} is a "
                           f"{type(value).__name__} ({value!r}), not a section")
        container = value
    raise AssertionError("unreachable")


def _parse(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        low = text.lower()
        if low in ("true", "false"):
            return low == "true"
        if low in ("none", "null"):
            return None
        return text  # bare text


def _coerce(key, old, text):
    value = _parse(text)
    bad = f"config override {key}={text}: {key} is a {type(old).__name__} ({old!r})"
    if old is None:
        return value
    if isinstance(old, bool):
        if not isinstance(value, bool):
            raise TypeError(f"{bad}; expected True or False")
        return value
    if isinstance(old, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{bad}; expected an int")
        return value
    if isinstance(old, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{bad}; expected a number")
        return float(value)
    if isinstance(old, str):
        # paths and names may be given bare; a quoted literal gives its string, None unsets
        return value if isinstance(value, str) or value is None else text
    if isinstance(old, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{bad}; expected a {type(old).__name__}, e.g. "
                            f"{key}={'(' if isinstance(old, tuple) else '['}1, 2"
                            f"{')' if isinstance(old, tuple) else ']'}")
        if old:
            value = [_coerce(f"{key}[{i}]", old[0], repr(v)) for i, v in enumerate(value)]
        return type(old)(value)
    if isinstance(old, dict):
        if not isinstance(value, dict):
            raise TypeError(f"{bad}; expected a dict, or override its keys one by one "
                            f"({key}.KEY=VALUE)")
        return value
    if type(value) is not type(old):
        raise TypeError(f"{bad}; got a {type(value).__name__}")
    return value


# ----------------------------------------------------------------------------- dumping
def dump_config(cfg, output_dir):
    """Write the final config to output_dir/config.py (a `config = {...}` file that get_config
    loads back), or to config.json when some value is not a Python literal. Returns the path.

    Builder methods a config class overrides are code, not data: they are not in the dump.
    """
    os.makedirs(output_dir, exist_ok=True)
    data = cfg.to_dict()
    text = pprint.pformat(data, sort_dicts=False, width=100)
    try:
        literal = ast.literal_eval(text) == data
    except (ValueError, SyntaxError):
        literal = False
    if literal:
        path = os.path.join(output_dir, "config.py")
        body = (f"# Final config of this run ({type(cfg).__module__}.{type(cfg).__name__} with "
                f"overrides).\n# Load with `-f {path}`.\nconfig = {text}\n")
    else:
        path = os.path.join(output_dir, "config.json")
        body = json.dumps(data, indent=2, default=repr) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(body)
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------------- num_classes
def dataset_num_classes(dataset):
    """Category count of a det dataset (`num_classes`, else `len(label_to_cat_id)`)."""
    n = getattr(dataset, "num_classes", None)
    if n is None and getattr(dataset, "label_to_cat_id", None) is not None:
        n = len(dataset.label_to_cat_id)
    if n is None:
        raise AttributeError(f"{type(dataset).__name__} has neither num_classes nor "
                             f"label_to_cat_id: cannot tell its category count")
    return int(n)


def resolve_num_classes(cfg, num_dataset_classes, source="the dataset"):
    """Set model.num_classes from the dataset when it is None; a different value is an error
    naming both numbers. Returns the number."""
    n = int(num_dataset_classes)
    if n <= 0:
        raise ValueError(f"{source} has {n} categories; a detector needs at least one")
    given = cfg.model.get("num_classes")
    if given is None:
        cfg.model.num_classes = n
    elif given != n:
        raise ValueError(f"model.num_classes is {given} but {source} has {n} categories; set "
                         f"model.num_classes={n} or leave it None to take the dataset's count")
    return n
