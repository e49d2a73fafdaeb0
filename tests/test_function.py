"""autodiff.Function: custom gradients as MegEngine defines them (state on self, called as f(x)),
under nested GradManagers, with None gradients, several outputs, and under DTR."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine.autodiff import Function, GradManager


class Sigmoid(Function):
    def forward(self, x):
        self.y = 1 / (1 + F.exp(-x))
        return self.y

    def backward(self, dy):
        return dy * self.y * (1 - self.y)


class ScaledGrad(Function):
    """Identity forward, a gradient deliberately unlike the forward's: proves backward is ours."""

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        return x * 1

    def backward(self, dy):
        return dy * self.k


def rand(*shape, device="cpu0"):
    return mge.tensor(np.random.default_rng(0).uniform(-2, 2, shape).astype("float32"),
                      device=device)


def test_function_forward_value_and_custom_gradient(device):
    x = rand(5, device=device)
    gm = GradManager().attach(x)
    with gm:
        y = ScaledGrad(3.0)(x)
        gm.backward((y * y).sum())
    np.testing.assert_allclose(y.numpy(), x.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * 2 * x.numpy(), rtol=1e-6)


def test_function_gradient_matches_builtin_sigmoid(device):
    x = rand(3, 4, device=device)
    gm = GradManager().attach(x)
    with gm:
        gm.backward((Sigmoid()(x) * rand(3, 4, device=device)).sum())
    g_custom = x.grad.numpy()
    x.grad = None
    with gm:
        gm.backward((F.sigmoid(x) * rand(3, 4, device=device)).sum())
    np.testing.assert_allclose(g_custom, x.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_function_outside_recording_is_plain_forward():
    x = rand(3)
    y = Sigmoid()(x)
    assert y._node is None
    np.testing.assert_allclose(y.numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)


def test_function_forward_ops_are_not_recorded():
    class Exp(Function):
        def forward(self, x):
            self.inner = F.exp(x)
            return self.inner

        def backward(self, dy):
            return dy * 0 + 7

    x = rand(3)
    gm = GradManager().attach(x)
    with gm:
        y = Exp()(x)
        gm.backward(y.sum())
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 7.0))


def test_function_multiple_inputs_and_outputs_with_none_grads():
    class SplitMul(Function):
        def forward(self, a, b):
            self.a, self.b = a, b
            return a * b, a + b

        def backward(self, d_mul, d_add):
            da = (d_mul * self.b if d_mul is not None else 0) + \
                (d_add if d_add is not None else 0)
            return da, None  # b's gradient stopped on purpose

    a, b = rand(4), rand(4) + 3
    gm = GradManager().attach([a, b])
    seen = {}

    class Spy(SplitMul):
        def backward(self, d_mul, d_add):
            seen["args"] = (d_mul, d_add)
            return super().backward(d_mul, d_add)

    with gm:
        prod, _ = Spy()(a, b)        # the sum output does not reach the loss
        gm.backward(prod.sum())
    assert seen["args"][1] is None and seen["args"][0] is not None
    np.testing.assert_allclose(a.grad.numpy(), b.numpy(), rtol=1e-6)
    assert b.grad is None


def test_function_single_gradient_may_be_returned_bare_or_in_a_list():
    class Double(Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            return [dy * 2]

    x = rand(3)
    gm = GradManager().attach(x)
    with gm:
        gm.backward(Double()(x).sum())
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 2.0))


def test_function_second_order_through_nested_grad_managers():
    class Cube(Function):
        def forward(self, x):
            self.x = x
            return x ** 3

        def backward(self, dy):
            return 3 * self.x ** 2 * dy

    x = rand(4)
    outer = GradManager().attach(x)
    inner = GradManager().attach(x)
    with outer:
        with inner:
            # the saved self.x is x itself, a tensor of the graph: the backward's 3x^2 is
            # recorded by the outer manager, so its derivative is 6x
            y = Cube()(x)
            inner.backward(y.sum())
        g = x.grad
        x.grad = None
        outer.backward(g.sum())
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2, rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy(), rtol=1e-5)


def test_function_under_dtr_is_bit_identical():
    def run(with_dtr):
        rng = np.random.default_rng(3)
        w = mge.Parameter(rng.standard_normal((64, 64)).astype("float32"))
        x = mge.tensor(rng.standard_normal((32, 64)).astype("float32"))
        gm = GradManager().attach(w)
        if with_dtr:
            mge.dtr(eviction_threshold="40KB", evictee_minimum_size=0)
        try:
            with gm:
                h = x
                for _ in range(6):
                    h = Sigmoid()(F.matmul(h, w))
                gm.backward(h.sum())
            evicted = mge.dtr.stats()["evictions"] if with_dtr else 0
        finally:
            mge.dtr.disable()
        return w.grad.numpy(), evicted

    mge.dtr.reset_stats()
    plain, _ = run(False)
    with_dtr, evictions = run(True)
    assert evictions > 0
    np.testing.assert_array_equal(plain, with_dtr)


def test_function_bad_inputs_and_returns_name_the_function():
    with pytest.raises(TypeError, match="op Sigmoid expect type Tensor as inputs, got list"):
        Sigmoid()([1.0, 2.0])

    class Wrong(Function):
        def forward(self, x):
            return x * 2

        def backward(self, dy):
            return dy, dy

    x = rand(3)
    gm = GradManager().attach(x)
    with pytest.raises(ValueError, match="Wrong.backward returned a tuple of 2.*1 in all"):
        with gm:
            gm.backward(Wrong()(x).sum())

    class BadShape(Function):
        def forward(self, x):
            return x.sum()

        def backward(self, dy):
            return dy

    with pytest.raises(ValueError, match=r"BadShape.backward: gradient 0 has shape \(\).*\(3,\)"):
        with gm:
            gm.backward(BadShape()(x))

    class NotTensor(Function):
        def forward(self, x):
            return x.numpy()

    with pytest.raises(TypeError, match="NotTensor.forward must return a Tensor"):
        with gm:
            NotTensor()(x)
