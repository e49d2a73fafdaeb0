"""Registries: name -> class (or function), so configs can say {"name": "FCOS", ...}.

    MODELS = Registry("models")

    @MODELS.register()          # registered as "FCOS"
    class FCOS(M.Module): ...

    model = MODELS.build({"name": "FCOS", "num_classes": 3})   # FCOS(num_classes=3)

The registry sits at the edge (detectron2's rule): constructors take plain keyword arguments and
know nothing of configs; only `build` reads the "name" key.
"""
from collections.abc import Mapping

__all__ = [
    "Registry", "MODELS", "BACKBONES", "NECKS", "HEADS", "DATASETS", "TRANSFORMS", "HOOKS",
    "EVALUATORS",
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
