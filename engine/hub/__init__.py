"""engine.hub: models and weights published through a git repository's hubconf.py.

    model = hub.load("owner/repo:branch", "resnet18", pretrained=True)
    model = hub.load("/path/to/folder", "resnet18", source="local")   # offline, no git

and `@hub.pretrained(url)` on a model constructor adds its `pretrained=False` keyword.
"""
from . import const, exceptions, fetcher, tools  # noqa: F401
from .hub import help, import_module, list, load, load_serialized_obj_from_url, pretrained

__all__ = ["list", "load", "help", "load_serialized_obj_from_url", "pretrained", "import_module"]
