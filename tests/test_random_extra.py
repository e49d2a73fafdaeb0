"""engine.random beyond uniform/normal: gamma, beta, poisson, exponential, multinomial, shuffle,
Tensor sizes, MegEngine's shapes, seeding, RNG independence and DTR replay."""
import numpy as np
import pytest

import engine as mge
import engine.random as R
from engine.dtr import recompute as dtr_recompute

Tensor = mge.Tensor
N = 200_000


def _moments(x):
    x = np.asarray(x, dtype=np.float64)
    return x.mean(), x.var()


@pytest.mark.parametrize("draw, mean, var", [
    (lambda r: r.gamma(2.5, 1.5, size=N), 2.5 * 1.5, 2.5 * 1.5 ** 2),
    (lambda r: r.gamma(0.5, size=N), 0.5, 0.5),
    (lambda r: r.beta(2.0, 5.0, size=N), 2 / 7, 2 * 5 / (7 ** 2 * 8)),
    (lambda r: r.beta(0.5, 0.5, size=N), 0.5, 0.25 / 2),
    (lambda r: r.poisson(3.0, size=N), 3.0, 3.0),
    (lambda r: r.poisson(0.2, size=N), 0.2, 0.2),
    (lambda r: r.exponential(0.5, size=N), 2.0, 4.0),
], ids=["gamma", "gamma_small_shape", "beta", "beta_arcsine", "poisson", "poisson_small",
        "exponential"])
def test_moments_match_the_analytic_ones(draw, mean, var):
    x = draw(R.RNG(seed=11)).numpy()
    assert x.dtype == np.float32 and x.shape == (N,)
    m, v = _moments(x)
    # 5 standard errors of the mean; the variance within 3 %
    assert abs(m - mean) < 5 * np.sqrt(var / N), (m, mean)
    assert abs(v - var) < 0.03 * var, (v, var)


def test_poisson_gives_whole_numbers():
    x = R.RNG(seed=1).poisson(4.0, size=1000).numpy()
    np.testing.assert_array_equal(x, np.round(x))
    assert (x >= 0).all()


def test_tensor_parameters_broadcast_after_size():
    rng = R.RNG(seed=2)
    shape = Tensor([[1.0], [50.0]])  # (2, 1)
    scale = Tensor([1.0, 2.0])  # (2,)
    assert rng.gamma(shape, scale).shape == (2, 2)
    x = rng.gamma(shape, scale, size=(4000,))
    assert x.shape == (4000, 2, 2)
    means = x.numpy().astype(np.float64).mean(0)
    np.testing.assert_allclose(means, [[1, 2], [50, 100]], rtol=0.06)
    assert rng.beta(Tensor([0.5, 5.0]), 1.0, size=3).shape == (3, 2)
    lam = Tensor([[1.0, 1.0], [10.0, 10.0]])
    assert rng.poisson(lam).shape == (2, 2)
    assert rng.poisson(lam, size=(1, 3)).shape == (1, 3, 2, 2)
    p = rng.poisson(lam, size=(5000,)).numpy().mean(0)
    np.testing.assert_allclose(p, [[1, 1], [10, 10]], rtol=0.06)


def test_megengine_shapes_for_scalars_and_none():
    # MegEngine: size=None (and an int size of 0 for parameterised draws) gives shape (1,)
    assert R.uniform().shape == (1,)
    assert R.normal().shape == (1,)
    assert R.gamma(2.0).shape == (1,)
    assert R.gamma(2.0, size=0).shape == (1,)
    assert R.beta(1, 2).shape == (1,)
    assert R.poisson(2.0, size=3).shape == (3,)
    assert R.exponential().shape == (1,)


def test_tensor_as_size():
    size = Tensor([2, 3], dtype="int32")
    assert R.uniform(size=size).shape == (2, 3)
    assert R.normal(1.0, 2.0, size=size).shape == (2, 3)
    assert R.gamma(1.0, size=size).shape == (2, 3)
    x = mge.tensor(np.zeros((4, 5), "float32"))
    assert R.normal(size=Tensor(x.shape)).shape == (4, 5)
    with pytest.raises(TypeError, match="random.uniform: a Tensor size"):
        R.uniform(size=Tensor([[2.0]]))


@pytest.mark.parametrize("name, args", [
    ("uniform", (0, 1, (3,))), ("normal", (0, 1, (3,))), ("gamma", (2.0, 1.0, (3,))),
    ("beta", (2.0, 3.0, (3,))), ("poisson", (2.0, (3,))), ("exponential", (1.0, (3,))),
])
def test_seed_reproduces_and_rngs_are_independent(name, args):
    R.seed(5)
    first = getattr(R, name)(*args).numpy()
    R.seed(5)
    again = getattr(R, name)(*args).numpy()
    np.testing.assert_array_equal(first, again)
    # RNG() without a seed draws from the global stream (MegEngine's handle 0)
    R.seed(5)
    np.testing.assert_array_equal(getattr(R.RNG(), name)(*args).numpy(), first)
    # a seeded RNG is its own stream: reseeding the global one leaves it alone
    a, b = R.RNG(seed=9), R.RNG(seed=9)
    xa = getattr(a, name)(*args).numpy()
    R.seed(1)
    R.normal(size=(10,))
    np.testing.assert_array_equal(getattr(b, name)(*args).numpy(), xa)
    assert not np.array_equal(getattr(a, name)(*args).numpy(), xa)


def test_shuffle_is_in_place_and_keeps_rows(device):
    a = np.arange(18, dtype="int32").reshape(6, 3)
    x = Tensor(a, device=device)
    R.seed(3)
    assert R.shuffle(x) is None
    rows = x.numpy()
    assert x.shape == (6, 3) and x.dtype == np.int32 and x.device == device
    assert not np.array_equal(rows, a)
    np.testing.assert_array_equal(rows[np.argsort(rows[:, 0])], a)
    R.seed(3)
    y = Tensor(a, device=device)
    R.RNG().shuffle(y)
    np.testing.assert_array_equal(y.numpy(), rows)  # the same seed, the same order
    one = Tensor(np.arange(10))
    R.RNG(seed=0).shuffle(one)
    np.testing.assert_array_equal(np.sort(one.numpy()), np.arange(10))


def test_multinomial():
    rng = R.RNG(seed=4)
    w = Tensor([1.0, 2.0, 3.0, 4.0])
    x = rng.multinomial(w, 20000, replacement=True)
    assert x.shape == (20000,) and x.dtype == np.int32
    freq = np.bincount(x.numpy(), minlength=4) / 20000
    np.testing.assert_allclose(freq, [0.1, 0.2, 0.3, 0.4], atol=0.015)
    rows = rng.multinomial(Tensor([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]]), 4)
    assert rows.shape == (2, 4)
    for r in rows.numpy():  # without replacement: each index once
        np.testing.assert_array_equal(np.sort(r), np.arange(4))


def test_parameter_devices(device):
    x = R.gamma(Tensor([1.0, 2.0], device=device), 1.0)
    assert x.device == device and x.shape == (2,)


@pytest.mark.parametrize("call", [
    lambda: R.gamma(Tensor([1.0, 2.0]), size=(3,)),
    lambda: R.beta(2.0, 3.0, size=(4, 2)),
    lambda: R.poisson(Tensor([1.0, 3.0]), size=2),
    lambda: R.exponential(2.0, size=(5,)),
])
def test_dtr_replays_the_draw_bit_identically(call):
    mge.dtr.enable()
    try:
        x = call()
        rec = x._storage.rec
        redrawn = dtr_recompute._RandomReplay.forward(np, **rec.attrs)
    finally:
        mge.dtr.disable()
    np.testing.assert_array_equal(redrawn, x.numpy())
    assert redrawn.dtype == np.float32
