"""Registries: name -> class (or function), so configs can say {"name": "FCOS", ...}.

    MODELS = Registry("models")

    @MODELS.register()          # registered as "FCOS"
    class FCOS(M.Module): ...

    model = MODELS.build({"name": "FCOS", "num_classes": 3})   # FCOS(num_classes=3)

The registry sits at the edge (detectron2's rule): constructors take plain keyword arguments and
know nothing of configs; only `build` reads the "name" key.

Entries of a config that name a registered object (train.hooks, test.evaluator,
data.train_dataset, data.train_transforms, ...) go through `build_from_config`, whose errors
name the config key:

    build_from_config(HOOKS, {"name": "MyHook", "period": 5}, "train.hooks[0]")
"""
import inspect
from collections.abc import Mapping

__all__ = [
    "Registry", "ConfigBuildError", "build_from_config", "check_config_spec", "check_registered",
    "MODELS", "BACKBONES", "NECKS", "HEADS", "DATASETS", "TRANSFORMS", "HOOKS", "EVALUATORS",
]


class Registry:
    """A named table of classes or functions.

    Args:
        name: what the table holds ("models", "backbones", ...), used in error messages.
    """

    def __init__(self, name):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Registry: name must be a non-empty str, got {name!r}")
        self.name = name
        self._table = {}

    def register(self, name=None):
        """Decorator: `@REG.register()` (the object's __name__) or `@REG.register("alias")`.

        Registering a second, different object under a taken name is an error (silently
        replacing a model would be hard to find). The same object, or one with the same module
        and qualified name (a config file executed again), replaces the entry.
        """
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"Registry({self.name!r}).register: name must be a non-empty str "
                            f"or None, got {name!r}; use @register() with parentheses")

        def deco(obj):
            key = obj.__name__ if name is None else name
            old = self._table.get(key)
            if old is not None and _qualname(old) != _qualname(obj):
                raise KeyError(f"Registry({self.name!r}): {key!r} is already registered "
                               f"(to {_qualname(old)}); cannot register {_qualname(obj)}")
            self._table[key] = obj
            return obj

        return deco

    def get(self, name):
        """The object registered as `name`; KeyError listing the registered names otherwise."""
        try:
            return self._table[name]
        except (KeyError, TypeError):
            registered = ", ".join(sorted(self._table)) or "none"
            raise KeyError(f"Registry({self.name!r}): no entry named {name!r}; registered: "
                           f"{registered}") from None

    def build(self, cfg_or_name, **kwargs):
        """Instantiate: `build("FCOS", num_classes=3)` or `build({"name": "FCOS", ...})`.

        Keyword arguments given here override the dict's entries.
        """
        if isinstance(cfg_or_name, str):
            name, args = cfg_or_name, {}
        elif isinstance(cfg_or_name, Mapping):
            if "name" not in cfg_or_name:
                raise KeyError(f"Registry({self.name!r}).build: the config dict has no 'name' "
                               f"key (keys: {sorted(cfg_or_name)})")
            args = {k: v for k, v in cfg_or_name.items() if k != "name"}
            name = cfg_or_name["name"]
        else:
            raise TypeError(f"Registry({self.name!r}).build: expected a name or a dict with "
                            f"'name', got {type(cfg_or_name).__name__}")
        args.update(kwargs)
        return self.get(name)(**args)

    def __contains__(self, name):
        return name in self._table

    def __iter__(self):
        return iter(sorted(self._table))

    def __len__(self):
        return len(self._table)

    def __repr__(self):
        return f"Registry({self.name!r}, entries={sorted(self._table)})"


class ConfigBuildError(ValueError):
    """A config entry cannot be built: not a dict with "name", an unknown name, or arguments
    the constructor does not take. The message names the config key (the CLI prints it as one
    line)."""


def build_from_config(registry, spec, key, context=None):
    """Build `spec` ({"name": ..., **kwargs}) from `registry`; `key` is where the spec sits in
    the config ("train.hooks[0]"), for the error messages.

    Args:
        registry: the Registry to look the name up in.
        spec: a dict with a "name" key; the other keys are the constructor's keyword arguments.
        key: the config key of spec, named in every error.
        context: keyword arguments the caller can supply (a dataset's transforms, an
            evaluator's output_dir): each is passed only when the constructor has a parameter
            of that name (or **kwargs) and spec does not set it, so a user's class takes just
            what it needs.

    Returns:
        The built object.

    Raises:
        ConfigBuildError: spec is malformed, its name is not registered, or its arguments do
            not fit the constructor's signature (checked before calling it, so an error raised
            inside the constructor keeps its own type and traceback).
    """
    obj, kwargs = _resolve(registry, spec, key, context)
    return obj(**kwargs)


def check_config_spec(registry, spec, key, context_keys=()):
    """Raise ConfigBuildError as build_from_config would, without building: for entries built
    late (the evaluator, at the first evaluation), so that a typo stops the run at its start.
    `context_keys` are the names build_from_config will later be offered."""
    _resolve(registry, spec, key, dict.fromkeys(context_keys))


def check_registered(registry, name, key):
    """ConfigBuildError naming `key` and the registered names unless `name` is registered."""
    if not isinstance(name, str) or name not in registry:
        registered = ", ".join(registry) or "none"
        raise ConfigBuildError(f"{key}: no {registry.name} entry named {name!r}; registered: "
                               f"{registered}")


def _resolve(registry, spec, key, context):
    """(the registered object, the keyword arguments to call it with), checked."""
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise ConfigBuildError(f"{key}: expected a dict with a 'name' key naming an entry of "
                               f"Registry({registry.name!r}) (e.g. dict(name=...)), got {spec!r}")
    name = spec["name"]
    check_registered(registry, name, key)
    obj = registry.get(name)
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    sig = _signature(obj)
    for k, v in (context or {}).items():
        if k not in kwargs and _takes(sig, k):
            kwargs[k] = v
    if sig is not None:
        try:
            sig.bind(**kwargs)
        except TypeError as e:
            raise ConfigBuildError(f"{key}: the arguments ({', '.join(sorted(kwargs))}) do not "
                                   f"fit {name}{sig}: {e}") from None
    return obj, kwargs


def _signature(obj):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):  # some builtins have none
        return None


def _takes(sig, name):
    """Whether a callable of signature `sig` (None: unknown) accepts keyword `name`."""
    if sig is None:
        return True
    params = sig.parameters.values()
    return any(p.kind is p.VAR_KEYWORD for p in params) or any(
        p.name == name and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)


def _qualname(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


MODELS = Registry("models")
BACKBONES = Registry("backbones")
NECKS = Registry("necks")
HEADS = Registry("heads")
DATASETS = Registry("datasets")
TRANSFORMS = Registry("transforms")
HOOKS = Registry("hooks")
EVALUATORS = Registry("evaluators")
