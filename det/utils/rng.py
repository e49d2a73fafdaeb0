"""Every random stream a training run draws from, as one picklable state (for --resume)."""
import random

import numpy as np

__all__ = ["seed_all", "get_rng_state", "set_rng_state"]


def seed_all(seed):
    """Seed Python's random, numpy's global stream and engine's (mge.random)."""
    import engine as mge

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    mge.random.seed(int(seed))


def get_rng_state():
    """{"python", "numpy", "engine"}: plain data (tuples, ints, one numpy array)."""
    import engine as mge

    return {"python": random.getstate(), "numpy": np.random.get_state(),
            "engine": mge.random.get_rng_state()}


def set_rng_state(state):
    import engine as mge

    missing = {"python", "numpy", "engine"} - set(state)
    if missing:
        raise KeyError(f"set_rng_state: the saved state lacks {sorted(missing)}")
    py = state["python"]
    # a pickled getstate() may come back with lists for tuples; setstate wants tuples
    random.setstate((py[0], tuple(py[1]), py[2]))
    np.random.set_state(tuple(state["numpy"]))
    mge.random.set_rng_state(state["engine"])
