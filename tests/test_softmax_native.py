"""The native losses that take their exps and logs from cpu/vmath.h, on every SIMD path, against
float64: softmax / log-softmax / cross-entropy over contiguous rows and over a strided class
axis (column blocks), with row lengths around the vector widths, label smoothing, extreme and
-inf logits, confident predictions; and the sigmoid focal loss (blocks, threads, each gamma
branch, confident logits whose log1p(exp(-|x|)) is far below 1's ulp)."""
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


# (N, C) rows, and (N, C, inner) with the classes strided: one column block, several with a
# ragged last one (blocks of 256 positions)
LAYOUTS = {"rows": (), "strided": (5,), "blocks": (2, 300)}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("n", ROW_LENGTHS)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_rows(n, log, layout, isa):
    if layout == "blocks" and n > 33:
        n = 33  # keeps the (2, n, 2, 300) case small
    rng = np.random.default_rng(n)
    shape = (2, n) + LAYOUTS[layout] if layout == "blocks" else (6, n) + LAYOUTS[layout]
    x, dy = logits(rng, shape), rng.standard_normal(shape).astype(np.float32)
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
@pytest.mark.parametrize("shape", ["rows", "nchw", "blocks"])
def test_cross_entropy(n, smooth, shape, isa):
    rng = np.random.default_rng(100 + n)
    # nchw: classes strided (inner = 6); blocks: inner = 600, three column blocks
    dims = {"rows": (9, n), "nchw": (3, n, 2, 3), "blocks": (2, min(n, 33), 20, 30)}[shape]
    x = logits(rng, dims)
    label = rng.integers(0, dims[1], (dims[0],) + dims[2:]).astype(np.int32)
    xt = mge.tensor(x)
    gm = GradManager().attach(xt)
    with gm:
        loss = F.nn.cross_entropy(xt, mge.tensor(label), axis=1, label_smooth=smooth,
                                  reduction="none")
        gm.backward(loss.sum())
    ref, dref = cross_entropy64(x.astype(np.float64), label, smooth, 1)
    # per position: with smoothing the loss of logits ~40 cancels to a few ulp of 40
    np.testing.assert_allclose(loss.numpy(), ref, rtol=2e-6, atol=1e-5)
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


def focal64(x, t, alpha, gamma):
    """Focal loss and its (dx, dt) in float64: loss = a * ce * m^gamma with
    ce = softplus(x) - x t, m = t (1 - p) + (1 - t) p (softplus as max(x, 0) + log1p(exp(-|x|)):
    softplus(x) - x cancels for x >> 0 even in float64)."""
    p = 1 / (1 + np.exp(-x))
    ce = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    m = t * (1 - p) + (1 - t) * p
    a = alpha * t + (1 - alpha) * (1 - t) if alpha >= 0 else np.ones_like(x)
    da = 2 * alpha - 1 if alpha >= 0 else 0.0
    mg = m ** gamma
    with np.errstate(divide="ignore", invalid="ignore"):
        dmg = np.where(m > 0, gamma * m ** (gamma - 1), 1.0 if gamma == 1 else 0.0)
    dmg = dmg if gamma != 0 else np.zeros_like(x)
    dm_dx, dm_dt = p * (1 - p) * (1 - 2 * t), (1 - p) - p
    dx = a * ((p - t) * mg + ce * dmg * dm_dx)
    dt = da * ce * mg + a * (-x * mg + ce * dmg * dm_dt)
    return a * ce * mg, dx, dt


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (0.25, 3.0), (-1.0, 1.0), (0.4, 0.0),
                                         (0.25, 2.5), (0.6, 0.5)])
def test_focal_loss_blocks_and_threads(alpha, gamma, isa):
    rng = np.random.default_rng(int(gamma * 10))
    n = 70_001  # several 1024-element blocks, a ragged last one, more than one thread
    x = rng.normal(0, 6, n).astype(np.float32)
    x[:6] = [30.0, -30.0, 17.0, -17.0, 0.0, 88.0]  # log1p(e) far below the ulp of 1
    t = (rng.random(n) < 0.1).astype(np.float32)
    t[6:500] = rng.random(494)  # soft targets
    g = rng.uniform(0.5, 2, n).astype(np.float32)
    loss = _C.focal_loss_forward(x, t, alpha, gamma)
    dx, dt = _C.focal_loss_backward(x, t, g, alpha, gamma)
    ref, dref_x, dref_t = focal64(x.astype(np.float64), t.astype(np.float64), alpha, gamma)
    np.testing.assert_allclose(loss, ref, rtol=2e-5, atol=1e-30)
    np.testing.assert_allclose(dx, g * dref_x, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dt, g * dref_t, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("top,rtol", [(12.0, 1e-6), (30.0, 3e-3)])
@pytest.mark.parametrize("strided", [False, True])
def test_cross_entropy_of_a_confident_prediction_keeps_its_relative_precision(top, rtol, strided,
                                                                              isa):
    # loss = log(1 + 16 e^-top): lse - x_label in float32 is off by 7.5e-4 relative at top = 12
    # and gives 0 at top = 30 (lse rounds to 30). Both paths sum in double and take
    # log1p(sum - 1), which double's ulp at 1 (16 additions) limits to ~1e-3 at top = 30.
    x = np.zeros((2, 17), np.float32)
    x[:, 0] = top
    if strided:
        x = np.repeat(x[:, :, None], 3, axis=2)  # (2, 17, 3): classes strided (column blocks)
    label = np.zeros((2,) + x.shape[2:], np.int32)
    loss = F.nn.cross_entropy(mge.tensor(x), mge.tensor(label), reduction="none").numpy()
    np.testing.assert_allclose(loss, np.log1p(16 * np.exp(-top)), rtol=rtol)
