"""Every `>>>` example in the docstrings of engine's public modules runs and prints what it says
(MegEngine's docstrings double as its examples; ours are checked)."""
import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import engine

# The packages whose docstrings are user documentation.
ROOTS = ["engine", "engine.functional", "engine.module", "engine.optimizer", "engine.data",
         "engine.autodiff"]
SKIP = ("engine._C", "engine.data._worker", "engine.data._parallel")


def _modules():
    seen = {}
    for root in ROOTS:
        pkg = importlib.import_module(root)
        seen[root] = pkg
        for info in pkgutil.walk_packages(pkg.__path__, root + "."):
            if info.name.startswith(SKIP) or info.name in seen:
                continue
            try:
                seen[info.name] = importlib.import_module(info.name)
            except ImportError as e:  # an optional dependency (cupy) that is absent here
                if "cupy" not in str(e):
                    raise
    return seen


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    found = {}
    for name, mod in sorted(_modules().items()):
        for test in finder.find(mod, name, globs=dict(GLOBS)):
            # a function re-exported by several modules is found in its own module only
            if test.examples and test.name.startswith(name + ".") and test.name not in found:
                found[test.name] = test
    return [pytest.param(t, id=n) for n, t in sorted(found.items())]


# What MegEngine's docstring examples take as already imported
GLOBS = {"np": np, "mge": engine, "megengine": engine, "F": engine.functional,
         "M": importlib.import_module("engine.module"), "Tensor": engine.Tensor,
         "tensor": engine.tensor}
EXAMPLES = _examples()


def test_there_are_examples():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("test", EXAMPLES)
def test_docstring_example(test):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    result = runner.run(test, out=out.append)
    assert result.failed == 0, "".join(out)
