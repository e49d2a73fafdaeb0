"""Shared pieces of the distributed tests: run a function on N local CPU ranks."""
import numpy as np
import pytest

import engine.distributed as dist

needs_mpi = pytest.mark.skipif(
    not __import__("engine.distributed._mpi_job", fromlist=["x"]).mpi_available(),
    reason="mpi4py is not installed (pip install -e .[dist])")


def run(n, fn, *args, **kwargs):
    """fn(*args) on n forked CPU ranks; the list of their return values."""
    return dist.launcher(n_gpus=n, device_type="cpu")(fn)(*args, **kwargs)


def inputs(n, shape, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    return [rng.randn(*shape).astype(dtype) for _ in range(n)]


def numeric_grad(f, xs, eps=1e-6):
    """d f(xs) / d xs[r] by central differences, for each rank's input (float64)."""
    grads = []
    for r in range(len(xs)):
        g = np.zeros_like(xs[r])
        for i in np.ndindex(xs[r].shape):
            plus = [x.copy() for x in xs]
            minus = [x.copy() for x in xs]
            plus[r][i] += eps
            minus[r][i] -= eps
            g[i] = (f(plus) - f(minus)) / (2 * eps)
        grads.append(g)
    return grads
