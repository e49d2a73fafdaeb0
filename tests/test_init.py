"""engine.module.init: MegEngine's formulas, in place (identity and attachment kept), seeded."""
import math

import numpy as np
import pytest

import engine as mge
import engine.module as M
from engine.autodiff import GradManager
from engine.module import init


def param(*shape):
    return mge.Parameter(np.zeros(shape, "float32"))


def test_fill_zeros_ones_keep_identity_dtype_and_attachment():
    p = param(3, 4)
    gm = GradManager().attach(p)
    before = p
    init.fill_(p, 2.5)
    assert p is before and p.dtype == np.float32 and np.all(p.numpy() == 2.5)
    init.ones_(p)
    assert np.all(p.numpy() == 1)
    init.zeros_(p)
    assert np.all(p.numpy() == 0)
    with gm:
        gm.backward((p * 3).sum())
    np.testing.assert_allclose(p.grad.numpy(), np.full((3, 4), 3.0))


@pytest.mark.parametrize("shape,fans", [
    ((5, 7), (7, 5)),                 # Linear (out, in)
    ((8, 4, 3, 3), (36, 72)),         # Conv2d (O, I, kh, kw)
    ((2, 4, 3, 3, 3), (27, 36)),      # grouped conv (G, O/G, I/G, kh, kw): group axis ignored
    ((6, 2, 5), (10, 30)),
])
def test_fans(shape, fans):
    p = param(*shape)
    assert init.calculate_fan_in_and_fan_out(p) == fans
    assert init.calculate_correct_fan(p, "fan_in") == fans[0]
    assert init.calculate_correct_fan(p, "FAN_OUT") == fans[1]


def test_fan_errors():
    with pytest.raises(ValueError, match="at least 2 dims, got shape \\(3,\\)"):
        init.calculate_fan_in_and_fan_out(param(3))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan'"):
        init.calculate_correct_fan(param(2, 2), "fan")


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope True is not a number"):
        init.calculate_gain("leaky_relu", True)


# (initialiser, kwargs, expected bound of a uniform or std of a normal for a (400, 300) weight)
FAN_IN, FAN_OUT = 300, 400
RANDOM = [
    (init.uniform_, dict(a=-0.5, b=2.0), ("uniform", -0.5, 2.0)),
    (init.normal_, dict(mean=1.0, std=0.3), ("normal", 1.0, 0.3)),
    (init.xavier_uniform_, dict(gain=2.0),
     ("uniform", None, 2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT)))),
    (init.xavier_normal_, dict(), ("normal", 0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)))),
    (init.msra_uniform_, dict(a=math.sqrt(5)),
     ("uniform", None, math.sqrt(6 / ((1 + 5) * FAN_IN)))),
    (init.msra_normal_, dict(mode="fan_out", nonlinearity="relu"),
     ("normal", 0.0, math.sqrt(2 / FAN_OUT))),
]


@pytest.mark.parametrize("fn,kw,expect", RANDOM, ids=[r[0].__name__ for r in RANDOM])
def test_random_initialisers_follow_megengine_formulas(fn, kw, expect):
    p = param(FAN_OUT, FAN_IN)
    fn(p, **kw)
    v = p.numpy().astype(np.float64)
    kind, a, b = expect
    if kind == "uniform":
        lo, hi = (-b, b) if a is None else (a, b)
        assert lo <= v.min() and v.max() <= hi
        assert v.min() < lo + 0.01 * (hi - lo) and v.max() > hi - 0.01 * (hi - lo)
        assert v.mean() == pytest.approx((lo + hi) / 2, abs=0.01 * (hi - lo))
        assert v.std() == pytest.approx((hi - lo) / math.sqrt(12), rel=0.02)
    else:
        assert v.mean() == pytest.approx(a, abs=0.01 * b + 1e-3)
        assert v.std() == pytest.approx(b, rel=0.02)


def test_random_initialisation_is_reproducible_with_engine_seed():
    mge.random.seed(42)
    a = M.Linear(8, 4).weight.numpy()
    mge.random.seed(42)
    b = M.Linear(8, 4).weight.numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, M.Linear(8, 4).weight.numpy())


def test_init_rejects_bad_arguments():
    with pytest.raises(TypeError, match="init.fill_: expected a Tensor, got ndarray"):
        init.fill_(np.zeros(3), 1)
    with pytest.raises(ValueError, match="init.normal_: std must be non-negative"):
        init.normal_(param(2), std=-1)
    with pytest.raises(ValueError, match="init.uniform_: lower bound a=1 is greater"):
        init.uniform_(param(2), 1, 0)
