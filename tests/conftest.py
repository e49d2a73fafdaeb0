"""Shared fixtures: a `device` fixture over the devices present, an `isa` fixture over the CPU's
SIMD paths, the `cuda` marker, and a fresh numpy seed per test so that random inputs are
reproducible."""
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


# The SIMD paths this CPU has, lowest first (engine._C.set_cpu_isa can force each one).
_ISA_ORDER = ("portable", "avx2", "avx512")
ISAS = ([] if mge._native._C is None else
        list(_ISA_ORDER[:_ISA_ORDER.index(mge._native._C.detected_cpu_isa()) + 1]))


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs the test once per SIMD path, restoring the process's path afterwards."""
    C = mge._native._C
    before = C.cpu_isa()
    C.set_cpu_isa(request.param)
    try:
        yield request.param
    finally:
        C.set_cpu_isa(before)


@pytest.fixture(autouse=True)
def _seed_numpy():
    np.random.seed(0)
