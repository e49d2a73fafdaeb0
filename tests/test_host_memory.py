"""engine's host-runtime policies applied at import: freed heap memory kept for reuse
(engine/_host_memory.py) and how idle OpenMP threads wait (engine/_native.py). Each case runs in
a fresh interpreter, since both take effect only when the process starts."""
import os
import subprocess
import sys

import pytest

from engine import _host_memory

_OURS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "ENGINE_HOST_MEMORY_CACHE", "GLIBC_TUNABLES",
         *_host_memory._USER_MALLOC_SETTINGS)

# Page faults over 20 rounds of allocating, filling and freeing an 8 MiB array, after a warm-up
# round: with the pages kept, a round reuses the last one's pages.
_FAULTS = """
import resource, numpy as np, engine
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
np.ones(2 << 20, np.float32)
before = faults()
for _ in range(20):
    a = np.ones(2 << 20, np.float32); del a
print(engine._host_memory.INSTALLED, faults() - before)
"""


def _child(env_updates, code):
    env = {k: v for k, v in os.environ.items() if k not in _OURS}
    env.update(env_updates)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc policy")


@glibc_only
def test_freed_pages_are_reused_by_the_next_allocation():
    installed, faults = _child({}, _FAULTS)
    assert installed == "True"
    assert int(faults) < 20, f"{faults} page faults over 20 reused 8 MiB allocations"


@glibc_only
def test_switched_off_the_c_library_default_faults_each_round():
    installed, faults = _child({"ENGINE_HOST_MEMORY_CACHE": "0"}, _FAULTS)
    assert installed == "False"
    # glibc mmaps an 8 MiB block afresh each round (2 MiB huge pages at the least: 4 per round)
    assert int(faults) >= 80, faults


@glibc_only
@pytest.mark.parametrize("env", [{"MALLOC_TRIM_THRESHOLD_": "1000000"},
                                 {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}])
def test_a_users_own_malloc_settings_are_left_alone(env):
    assert _child(env, _FAULTS)[0] == "False"


def test_release_returns_a_bool():
    assert _host_memory.release() in (True, False)


def test_trim_threshold_is_a_quarter_of_ram_capped_at_2_gib():
    t = _host_memory.trim_threshold_bytes()
    assert 0 < t <= (2 << 30) - 1


_WAIT = ("import os, engine; "
         "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")


def test_idle_threads_spin_briefly_then_sleep_by_default():
    assert _child({}, _WAIT) == ["PASSIVE", "10000"]


@pytest.mark.parametrize("env,expected", [({"OMP_WAIT_POLICY": "ACTIVE"}, ["ACTIVE", "None"]),
                                          ({"GOMP_SPINCOUNT": "0"}, ["None", "0"])])
def test_a_users_wait_settings_win(env, expected):
    assert _child(env, _WAIT) == expected
