"""The native CPU activation loops (csrc/kernels/activation.h) at sizes the op table's small rows
do not reach: vector tails and the multi-threaded split, every SIMD path, against float64
references and torch, forward and backward. Row-level correctness (finite differences, second
order) is in test_ops_table.py."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine._native import _C
from engine.autodiff import GradManager

pytestmark = pytest.mark.skipif(_C is None, reason="engine._C not built")

# vector tails past the native threshold of ReLU (engine.ops.nn._EXACT_NATIVE_MIN = 256; smaller
# arrays take numpy's expression), a chunk edge, several threads' worth
SIZES = [257, 273, 4097, 70_001]
KERNELS = {"relu": lambda x: _C.relu_forward(x), "sigmoid": lambda x: _C.sigmoid_forward(x),
           "leaky_relu": lambda x: _C.leaky_relu_forward(x, 0.1),
           "silu": lambda x: _C.silu_forward(x)}


def sigmoid64(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


# name -> (engine function, float64 forward, float64 d/dx given x and the float32 output y).
# Sigmoid's gradient is y (1 - y) of its float32 output (as in torch): 1 - y of a y near 1 keeps
# only the output's absolute precision, so the reference takes the same y.
REFS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0), lambda x, y: (x > 0) * 1.0),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
                   lambda x, y: np.where(x > 0, 1.0, 0.1)),
    "sigmoid": (F.sigmoid, sigmoid64, lambda x, y: y * (1 - y)),
    "silu": (F.silu, lambda x: x * sigmoid64(x),
             lambda x, y: sigmoid64(x) * (1 + x * (1 - sigmoid64(x)))),
}


def forward_backward(fn, x_np, dy_np):
    x = mge.tensor(x_np)
    gm = GradManager().attach(x)
    with gm:
        y = fn(x)
        gm.backward(y, mge.tensor(dy_np))
    return y.numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", list(REFS))
@pytest.mark.parametrize("n", SIZES)
def test_against_float64(name, n, isa):
    fn, ref, dref = REFS[name]
    rng = np.random.default_rng(n)
    x = rng.uniform(-12, 12, n).astype(np.float32)
    dy = rng.standard_normal(n).astype(np.float32)
    y, dx = forward_backward(fn, x, dy)
    x64 = x.astype(np.float64)
    assert y.dtype == np.float32 and dx.dtype == np.float32
    np.testing.assert_allclose(y, ref(x64), rtol=3e-7, atol=1e-37)
    np.testing.assert_allclose(dx, dy * dref(x64, y.astype(np.float64)), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(REFS))
@pytest.mark.parametrize("n", [1, 17])
def test_kernels_on_tiny_arrays(name, n, isa):
    # below the threshold F.* uses numpy; the kernels themselves still take any length
    x = np.random.default_rng(n).uniform(-12, 12, n).astype(np.float32)
    np.testing.assert_allclose(KERNELS[name](x), REFS[name][1](x.astype(np.float64)),
                               rtol=3e-7, atol=1e-37)


def test_relu_keeps_nan_and_signs_like_numpy():
    x = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, -1e-45, 1e-45, 3.0] * 40, np.float32)
    np.testing.assert_array_equal(F.relu(mge.tensor(x)).numpy(), np.maximum(x, np.float32(0)))
    np.testing.assert_array_equal(F.leaky_relu(mge.tensor(x), 0.5).numpy(),
                                  np.where(x > 0, x, x * np.float32(0.5)))


def test_sigmoid_saturates_without_overflow():
    x = np.tile(np.array([-1e4, -100, -88.8, 88.8, 100, 1e4, np.inf, -np.inf], np.float32), 40)
    y = F.sigmoid(mge.tensor(x)).numpy()
    # within 3 ulp; below 2^-126 the ulp is the denormal spacing 2^-149
    np.testing.assert_allclose(y, sigmoid64(x.astype(np.float64)), rtol=3.6e-7, atol=2.0 ** -149)
    assert np.isnan(F.sigmoid(mge.tensor(np.full(300, np.nan, np.float32))).numpy()).all()


@pytest.mark.parametrize("name", list(REFS))
def test_against_torch(name):
    torch = pytest.importorskip("torch")
    tfn = {"relu": torch.relu, "sigmoid": torch.sigmoid, "silu": torch.nn.functional.silu,
           "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.1)}[name]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 16, 33, 33)).astype(np.float32) * 4
    dy = rng.standard_normal(x.shape).astype(np.float32)
    y, dx = forward_backward(REFS[name][0], x, dy)
    xt = torch.tensor(x, requires_grad=True)
    yt = tfn(xt)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(REFS))
def test_float16_and_float64_take_the_array_path(name):
    fn, ref, _ = REFS[name]
    x = np.linspace(-5, 5, 101)
    for dtype, tol in ((np.float16, 2e-3), (np.float64, 1e-6)):
        out = fn(mge.tensor(x.astype(dtype), dtype=dtype))
        assert out.dtype == np.dtype(dtype) or dtype == np.float64  # float64 becomes float32
        np.testing.assert_allclose(out.numpy().astype(np.float64), ref(x), rtol=tol, atol=tol)


def test_non_contiguous_input():
    x = np.random.default_rng(0).standard_normal((64, 80)).astype(np.float32)
    t = mge.tensor(x)[:, ::3]
    np.testing.assert_array_equal(F.relu(t).numpy(), np.maximum(x[:, ::3], 0))


def test_gradient_kernels_check_shapes():
    with pytest.raises(ValueError, match=r"relu_backward: dy and y must have the same shape, "
                                         r"got dy \(3,\) and y \(4,\)"):
        _C.relu_backward(np.zeros(3, np.float32), np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="silu_backward: expected a float32 array, got float64"):
        _C.silu_backward(np.zeros(3, np.float32), np.zeros(3))


@pytest.mark.parametrize("op,ref", [(lambda a, b: a + b, np.add), (lambda a, b: a - b, np.subtract),
                                    (lambda a, b: a * b, np.multiply)])
def test_large_same_shape_arithmetic_runs_native_and_matches_numpy(op, ref):
    # from engine.ops.elemwise._NATIVE_ARITH_MIN elements Add/Sub/Mul run csrc/cpu/arith.cpp
    rng = np.random.default_rng(0)
    for n in (1 << 18, (1 << 18) + 17, 1 << 20):
        a = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        np.testing.assert_array_equal(op(mge.tensor(a), mge.tensor(b)).numpy(), ref(a, b))
    assert np.array_equal(_C.add(a, b), a + b) and np.array_equal(_C.mul(a, b), a * b)
    with pytest.raises(ValueError, match="add: a and b must have the same shape"):
        _C.add(np.ones(3, np.float32), np.ones(4, np.float32))
