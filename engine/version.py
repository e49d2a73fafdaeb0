"""engine.version: the package version, kept in one place (pyproject.toml's `version`).

A source checkout reads it from pyproject.toml next to the package, so an edit there shows up
without reinstalling; an installed engine reads its distribution metadata.
"""
import os
import re

__all__ = ["__version__"]


def _read_version():
    pyproject = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "pyproject.toml")
    if os.path.isfile(pyproject):
        with open(pyproject, encoding="utf-8") as f:
            text = f.read()
        project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        if project:
            m = re.search(r'^version\s*=\s*"([^"]+)"', project.group(1), re.M)
            if m:
                return m.group(1)
    from importlib.metadata import version

    return version("engine")


__version__ = _read_version()
