"""engine.device: MegEngine's 21 functions, their top-level names, and real values on CPU (from
engine's allocator counters and the OS) and on GPU (CuPy)."""
import json
import os

import numpy as np
import pytest

import engine as mge
from engine import device

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = json.load(open(os.path.join(ROOT, "tests", "data", "megengine_api.json")))["names"]


def test_every_megengine_device_function_exists_here_and_at_the_top_level():
    names = [k.split(".")[-1] for k in API if k.startswith("megengine.device.")]
    assert len(names) >= 21
    for n in names:
        assert callable(getattr(device, n)), n
    for k in API:
        parts = k.split(".")
        if len(parts) == 2 and hasattr(device, parts[1]):
            assert getattr(mge, parts[1]) is getattr(device, parts[1]) or \
                getattr(mge, parts[1]).__name__ == parts[1], k


def test_availability_of_backends_engine_lacks():
    assert mge.is_atlas_available() is False
    assert mge.is_cambricon_available() is False
    assert mge.is_rocm_available() is False
    assert device.what_is_xpu() == ("cuda" if mge.is_cuda_available() else "cpu")
    assert mge.get_device_count("cpu") == os.cpu_count()
    assert mge.get_device_count("rocm") == 0
    with pytest.raises(ValueError, match="get_device_count"):
        mge.get_device_count("tpu")


def test_cpu_mem_status_matches_the_os():
    total, free = mge.get_mem_status_bytes("cpu0")
    page = os.sysconf("SC_PAGE_SIZE")
    assert total == os.sysconf("SC_PHYS_PAGES") * page
    assert 0 < free <= total
    with open("/proc/meminfo") as f:
        meminfo = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
    assert abs(total - meminfo["MemTotal"]) < 64 * 1024 * 1024


def _stats(dev):
    return (mge.get_allocated_memory(dev), mge.get_max_allocated_memory(dev),
            mge.get_reserved_memory(dev), mge.get_max_reserved_memory(dev))


def test_memory_stats_follow_tensor_lifetimes(device):
    mge.reset_max_memory_stats(device)
    alloc0, peak0, res0, _ = _stats(device)
    assert peak0 == alloc0
    x = mge.tensor(np.zeros(1 << 18, "float32"), device=device)  # 1 MiB
    alloc1, peak1, res1, maxres1 = _stats(device)
    assert alloc1 - alloc0 == 1 << 20
    assert peak1 >= alloc1 and maxres1 >= res1 >= alloc1
    view = x.reshape(512, 512)  # a view: no new bytes
    assert mge.get_allocated_memory(device) == alloc1
    del x, view
    alloc2, peak2, _, maxres2 = _stats(device)
    assert alloc2 == alloc0 and peak2 == peak1 and maxres2 >= maxres1
    mge.reset_max_memory_stats(device)
    assert mge.get_max_allocated_memory(device) == alloc0


def test_cpu_reserved_is_allocated_there_is_no_caching_allocator():
    x = mge.tensor(np.ones(1000, "float32"), device="cpu0")
    assert mge.get_reserved_memory("cpu0") == mge.get_allocated_memory("cpu0")
    assert mge.get_max_reserved_memory("cpu0") == mge.get_max_allocated_memory("cpu0")
    del x


def test_default_device_is_used_when_none_given():
    assert mge.get_allocated_memory() == mge.get_allocated_memory(mge.get_default_device())
    assert mge.get_mem_status_bytes() == pytest.approx(
        mge.get_mem_status_bytes(mge.get_default_device()), rel=0.05)


def test_prealloc_config_is_validated_and_kept():
    try:
        mge.set_prealloc_config(alignment=512, min_req=1 << 20, max_overhead=1 << 10,
                                growth_factor=1.5)
        cfg = device._prealloc_config
        assert (cfg["alignment"], cfg["min_req"], cfg["max_overhead"], cfg["growth_factor"]) == (
            512, 1 << 20, 1 << 10, 1.5)
        assert cfg["device_type"] is device.DeviceType.CUDA
        for bad in ({"alignment": 0}, {"min_req": 0}, {"max_overhead": -1},
                    {"growth_factor": 0.5}):
            with pytest.raises(AssertionError, match="set_prealloc_config"):
                mge.set_prealloc_config(**bad)
    finally:
        mge.set_prealloc_config()


def test_version_queries_without_cuda_say_zero_and_cudnn_tensorrt_are_unused():
    assert mge.get_cudnn_version() == 0 and mge.get_tensorrt_version() == 0
    if not mge.is_cuda_available():
        assert mge.get_cuda_version() == 0 and mge.get_cuda_driver_version() == 0
        with pytest.raises((RuntimeError, ValueError)):
            mge.get_cuda_compute_capability(0)
    mge.coalesce_free_memory()


@pytest.mark.cuda
def test_cuda_queries_match_cupy():
    import cupy as cp

    assert mge.get_cuda_version() == cp.cuda.runtime.runtimeGetVersion() > 0
    assert mge.get_cuda_driver_version() == cp.cuda.runtime.driverGetVersion() > 0
    props = cp.cuda.runtime.getDeviceProperties(0)
    assert mge.get_cuda_compute_capability(0) == props["major"] * 10 + props["minor"]
    p = mge.get_cuda_device_property(0)
    assert p.total_memory == props["totalGlobalMem"] and p.major == props["major"]
    free, total = cp.cuda.runtime.memGetInfo()
    t, f = mge.get_mem_status_bytes("gpu0")
    assert t == total and abs(f - free) < 256 * 1024 * 1024
    with pytest.raises(RuntimeError, match="not a CUDA device"):
        mge.get_cuda_compute_capability("cpu0")


@pytest.mark.cuda
def test_gpu_reserved_is_the_pool_and_coalesce_returns_cached_blocks():
    import cupy as cp

    pool = cp.get_default_memory_pool()
    x = mge.tensor(np.zeros(1 << 20, "float32"), device="gpu0")
    assert mge.get_reserved_memory("gpu0") == pool.total_bytes() >= 4 << 20
    peak = mge.get_max_reserved_memory("gpu0")
    del x
    assert mge.get_max_reserved_memory("gpu0") >= peak
    mge.coalesce_free_memory()
    assert mge.get_reserved_memory("gpu0") == pool.total_bytes() == pool.used_bytes()
    mge._full_sync()
