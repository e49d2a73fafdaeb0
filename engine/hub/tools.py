"""Small helpers of engine.hub: load a module from a file, test that a module exists, chdir."""
import importlib.util
import os
from contextlib import contextmanager

__all__ = ["load_module", "check_module_exists", "cd"]


def load_module(name, path):
    r"""Loads module specified by name and path.

    Args:
        name: module name.
        path: module path.

    Returns:
        the executed module (not added to sys.modules).

    Examples:
        >>> import os, tempfile
        >>> from engine.hub.tools import load_module
        >>> d = tempfile.mkdtemp()
        >>> with open(os.path.join(d, "m.py"), "w") as f:
        ...     _ = f.write("x = 3")
        >>> load_module("m", os.path.join(d, "m.py")).x
        3
    """
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"load_module: cannot load {name!r} from {path!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_module_exists(module):
    r"""Checks whether python module exists or not.

    Args:
        module: name of module.

    Returns:
        a bool.

    Examples:
        >>> from engine.hub.tools import check_module_exists
        >>> check_module_exists("os"), check_module_exists("no_such_module_here")
        (True, False)
    """
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # "a.b" where package a is missing
        return False


@contextmanager
def cd(target):
    r"""Changes current directory to target, and back after the block.

    Args:
        target: target directory.

    Examples:
        >>> import os, tempfile
        >>> from engine.hub.tools import cd
        >>> d = os.path.realpath(tempfile.mkdtemp())
        >>> with cd(d):
        ...     os.getcwd() == d
        True
    """
    prev = os.getcwd()
    os.chdir(os.path.expanduser(target))
    try:
        yield
    finally:
        os.chdir(prev)
