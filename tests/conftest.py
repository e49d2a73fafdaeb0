"""Shared fixtures: a `device` fixture over the devices present, the `cuda` marker, and a fresh
numpy seed per test so that random inputs are reproducible."""
import numpy as np
import pytest

import engine as mge

# gpu0 carries the cuda marker, so that `pytest -m cuda` (tools/gpu_check.sh) runs the gpu0 half
# of every test that takes the device fixture, not only the tests marked by hand
DEVICES = ["cpu0"] + ([pytest.param("gpu0", marks=pytest.mark.cuda)]
                      if mge.is_cuda_available() else [])


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs an NVIDIA GPU (skipped without one)")


def pytest_collection_modifyitems(config, items):
    if mge.is_cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (engine.is_cuda_available() is False)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(autouse=True)
def _seed_numpy():
    np.random.seed(0)
