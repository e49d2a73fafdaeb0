"""The contiguous-row paths of the native softmax / log-softmax / cross-entropy kernels (which take
their exps from the vectorised exp of cpu/vmath.h) on every SIMD path, against float64: row
lengths around the vector widths, label smoothing, extreme and -inf logits. The strided
(inner > 1) rows run the scalar functor path; both are checked against the same reference."""
import numpy as np
import pytest

import engine as mge
import engine.functional as F
from engine._native import _C
from engine.autodiff import GradManager

pytestmark = pytest.mark.skipif(_C is None, reason="engine._C not built")

ROW_LENGTHS = [1, 2, 15, 16, 17, 31, 33, 1000]


def log_softmax64(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def cross_entropy64(x, label, smooth, axis):
    """Per-row loss and d(sum loss)/dx, in float64 (x (N, C, ...), classes along axis 1)."""
    logp = log_softmax64(x, axis)
    c = x.shape[axis]
    target = np.moveaxis(np.eye(c)[label], -1, axis) * (1 - smooth) + smooth / c
    picked = np.take_along_axis(logp, np.expand_dims(label, axis), axis).squeeze(axis)
    loss = -(1 - smooth) * picked
    if smooth:  # (a -inf logit makes the mean -inf, where smooth = 0 must not multiply it)
        loss = loss - smooth * logp.mean(axis=axis)
    return loss, np.exp(logp) - target


def logits(rng, shape):
    x = rng.normal(0, 3, shape)
    x.flat[::7] += 40  # a few dominant classes: the shift by the max must keep exp in range
    return x.astype(np.float32)


@pytest.mark.parametrize("n", ROW_LENGTHS)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_rows(n, log, isa):
    rng = np.random.default_rng(n)
    x, dy = logits(rng, (6, n)), rng.standard_normal((6, n)).astype(np.float32)
    xt = mge.tensor(x)
    gm = GradManager().attach(xt)
    with gm:
        y = F.logsoftmax(xt, axis=1) if log else F.softmax(xt, axis=1)
        gm.backward(y, mge.tensor(dy))
    ref = log_softmax64(x.astype(np.float64), 1)
    if log:
        # from the float32 output, as the kernel (and torch) computes it: near-zero log-probs
        # of a row with a large log-sum-exp carry only its absolute precision
        y64 = y.numpy().astype(np.float64)
        dref = dy - np.exp(y64) * dy.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(y.numpy(), ref, rtol=1e-6, atol=2e-5)
    else:
        p = np.exp(ref)
        dref = p * (dy - (dy * p).sum(axis=1, keepdims=True))
        np.testing.assert_allclose(y.numpy(), p, rtol=2e-6, atol=1e-9)
    np.testing.assert_allclose(xt.grad.numpy(), dref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", ROW_LENGTHS)
@pytest.mark.parametrize("smooth", [0.0, 0.2])
@pytest.mark.parametrize("shape", ["rows", "nchw"])
def test_cross_entropy(n, smooth, shape, isa):
    rng = np.random.default_rng(100 + n)
    dims = (9, n) if shape == "rows" else (3, n, 2, 3)  # nchw: classes strided (inner = 6)
    x = logits(rng, dims)
    label = rng.integers(0, n, (dims[0],) + dims[2:]).astype(np.int32)
    xt = mge.tensor(x)
    gm = GradManager().attach(xt)
    with gm:
        loss = F.nn.cross_entropy(xt, mge.tensor(label), axis=1, label_smooth=smooth,
                                  reduction="sum")
        gm.backward(loss)
    ref, dref = cross_entropy64(x.astype(np.float64), label, smooth, 1)
    np.testing.assert_allclose(loss.numpy(), ref.sum(), rtol=2e-6, atol=1e-5)
    np.testing.assert_allclose(xt.grad.numpy(), dref, rtol=1e-5, atol=1e-7)


def test_cross_entropy_with_minus_inf_and_huge_logits(isa):
    x = np.array([[-np.inf, 0.0, 1.0] + [-np.inf] * 14,
                  [3e38, -3e38, 0.0] + [1e4] * 14], np.float32)
    label = np.array([2, 0], np.int32)
    xt = mge.tensor(x)
    gm = GradManager().attach(xt)
    with gm:
        loss = F.nn.cross_entropy(xt, mge.tensor(label), reduction="none")
        gm.backward(loss.sum())
    with np.errstate(invalid="ignore", over="ignore"):
        ref, dref = cross_entropy64(x.astype(np.float64), label, 0.0, 1)
    np.testing.assert_allclose(loss.numpy(), ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(xt.grad.numpy(), dref, rtol=1e-6, atol=1e-7)
