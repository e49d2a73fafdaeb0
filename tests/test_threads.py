"""engine's one CPU thread pool: its size rule (ENGINE_NUM_THREADS, OMP_NUM_THREADS, affinity,
cgroup quota) and engine.set_num_threads / get_num_threads."""
import os
import subprocess
import sys

import pytest

import engine
from engine import _threads


def _threads_in_child(env_updates, code="import engine; print(engine.get_num_threads())"):
    env = {k: v for k, v in os.environ.items()
           if k not in ("ENGINE_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(env_updates)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip(), out.stderr


def test_default_is_the_usable_cores():
    got, _ = _threads_in_child({})
    assert int(got) == _threads.usable_cores()


def test_engine_num_threads_wins_over_omp_num_threads():
    assert _threads_in_child({"ENGINE_NUM_THREADS": "3", "OMP_NUM_THREADS": "2"})[0] == "3"
    assert _threads_in_child({"OMP_NUM_THREADS": "2,1"})[0] == "2"


def test_bad_value_warns_and_falls_back():
    got, err = _threads_in_child({"ENGINE_NUM_THREADS": "lots"})
    assert int(got) == _threads.usable_cores()
    assert "ENGINE_NUM_THREADS='lots' is not a positive number of threads" in err


def test_affinity_limits_the_default():
    if not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs sched_setaffinity and 2 CPUs")
    cpu = min(os.sched_getaffinity(0))
    code = (f"import os; os.sched_setaffinity(0, {{{cpu}}}); import engine; "
            "print(engine.get_num_threads())")
    assert _threads_in_child({}, code)[0] == "1"


def test_cgroup_quota_caps_the_cores(monkeypatch):
    monkeypatch.setattr(_threads, "_cgroup_cpu_limit", lambda: 1.5)
    assert _threads.usable_cores() == min(2, len(os.sched_getaffinity(0)))
    monkeypatch.setattr(_threads, "_cgroup_cpu_limit", lambda: 0.2)
    assert _threads.usable_cores() == 1


def test_set_and_get():
    before = engine.get_num_threads()
    try:
        engine.set_num_threads(1)
        assert engine.get_num_threads() == 1
        engine.set_num_threads(3)
        assert engine.get_num_threads() == 3
    finally:
        engine.set_num_threads(before)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
            engine.set_num_threads(bad)
