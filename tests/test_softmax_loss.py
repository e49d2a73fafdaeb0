"""Softmax / log-softmax, the fused cross-entropy and the sigmoid focal loss: op-table rows
(float64 numpy references, finite-difference gradients), PyTorch comparisons and second
derivatives."""
import numpy as np
import pytest
import torch
from optable import Case, U, check_case, gens, ints

import engine as mge
import engine.functional as F
from engine.autodiff import GradManager


def softmax_ref(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def ce_ref(x, label, axis=1, smooth=0.0, reduction="mean"):
    logp = np.log(softmax_ref(x, axis))
    idx = np.expand_dims(label.astype(np.int64), axis)
    nll = -np.take_along_axis(logp, idx, axis).squeeze(axis)
    loss = nll * (1 - smooth) - logp.mean(axis) * smooth
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


def focal_ref(x, t, alpha=0.25, gamma=2.0):
    p = 1 / (1 + np.exp(-x))
    ce = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = loss * (alpha * t + (1 - alpha) * (1 - t))
    return loss


def focal_torch(x, t, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss, written out with torch ops."""
    p = torch.sigmoid(x)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none")
    loss = ce * (1 - (p * t + (1 - p) * (1 - t))) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return loss


SM = ("Softmax", "SoftmaxGrad")
LSM = ("LogSoftmax", "LogSoftmaxGrad")
CE = ("CrossEntropy", "CrossEntropyGrad")
FOCAL = ("FocalLoss", "FocalLossGrad")

CASES = [
    Case("softmax_axis0_inner", gens(U(4, 3, 2)), lambda x: F.softmax(x, axis=0),
         lambda x: softmax_ref(x, 0), SM, grad=(0,)),
    Case("softmax_last", gens(U(3, 7, lo=-30, hi=30)), lambda x: F.softmax(x, axis=-1),
         lambda x: softmax_ref(x, -1), SM, grad=(0,), atol=1e-6),
    Case("logsoftmax_axis1_inner", gens(U(2, 5, 3)), lambda x: F.logsoftmax(x, axis=1),
         lambda x: np.log(softmax_ref(x, 1)), LSM, grad=(0,)),
    Case("ce_fused", gens(U(6, 5), ints(6, hi=5)), lambda x, y: F.nn.cross_entropy(x, y),
         ce_ref, CE, grad=(0,)),
    Case("ce_fused_spatial_smooth", gens(U(2, 4, 3), ints(2, 3, hi=4)),
         lambda x, y: F.nn.cross_entropy(x, y, label_smooth=0.2, reduction="sum"),
         lambda x, y: ce_ref(x, y, 1, 0.2, "sum"), CE, grad=(0,)),
    Case("ce_fused_last_axis_none", gens(U(3, 2, 6), ints(3, 2, hi=6)),
         lambda x, y: F.nn.cross_entropy(x, y, axis=-1, reduction="none"),
         lambda x, y: ce_ref(x, y, 2, 0.0, "none"), CE, grad=(0,)),
    Case("focal_loss", gens(U(4, 5, lo=-4, hi=4), U(4, 5, lo=0, hi=1)),
         F.loss.sigmoid_focal_loss, focal_ref, FOCAL, grad=(0, 1)),
    Case("focal_loss_binary_mean", gens(U(12, lo=-4, hi=4), ints(12, hi=2)),
         lambda x, t: F.nn.sigmoid_focal_loss(x, t, reduction="mean"),
         lambda x, t: focal_ref(x, t).mean(), FOCAL, grad=(0,)),
    Case("focal_loss_no_alpha_gamma_1_5", gens(U(3, 4, lo=-3, hi=3), U(3, 4, lo=0, hi=1)),
         lambda x, t: F.loss.sigmoid_focal_loss(x, t, alpha=-1, gamma=1.5, reduction="sum"),
         lambda x, t: focal_ref(x, t, -1, 1.5).sum(), FOCAL, grad=(0, 1)),
    Case("focal_loss_gamma_0", gens(U(3, 4, lo=-3, hi=3), U(3, 4, lo=0, hi=1)),
         lambda x, t: F.loss.sigmoid_focal_loss(x, t, alpha=0.7, gamma=0.0),
         lambda x, t: focal_ref(x, t, 0.7, 0.0), FOCAL, grad=(0, 1)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op(case, device, monkeypatch):
    check_case(case, device, monkeypatch)


def _grad(fn, *arrays, device="cpu0", weights=None):
    """(value, grads of sum(fn * weights)) in engine."""
    xs = [mge.tensor(a, device=device) for a in arrays]
    gm = GradManager().attach(xs)
    with gm:
        y = fn(*xs)
        w = np.ones(y.shape, np.float32) if weights is None else weights
        gm.backward((y * mge.tensor(w, device=device)).sum())
    return y.numpy(), [x.grad.numpy() for x in xs]


def _torch_grad(fn, *arrays, weights=None, double=False):
    ts = [torch.tensor(a.astype(np.float64) if double else a, requires_grad=True) for a in arrays]
    y = fn(*ts)
    w = torch.ones_like(y) if weights is None else torch.tensor(weights, dtype=y.dtype)
    (y * w).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("shape,axis", [((8, 1000), 1), ((2, 5, 3, 4), 1), ((3, 4, 6), 0),
                                        ((7,), 0)])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_matches_torch(shape, axis, log, device):
    x = np.random.default_rng(0).normal(0, 3, shape).astype(np.float32)
    w = np.random.default_rng(1).uniform(0.5, 1.5, shape).astype(np.float32)
    ours = (lambda t: F.logsoftmax(t, axis)) if log else (lambda t: F.softmax(t, axis))
    ref = (lambda t: torch.log_softmax(t, axis)) if log else (lambda t: torch.softmax(t, axis))
    y, (g,) = _grad(ours, x, device=device, weights=w)
    ty, (tg,) = _torch_grad(ref, x, weights=w)
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g, tg, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("shape,axis", [((256, 1000), 1), ((4, 7, 3, 5), 1), ((5, 3, 9), 2)])
@pytest.mark.parametrize("smooth", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch(shape, axis, smooth, reduction, device):
    rng = np.random.default_rng(2)
    x = rng.normal(0, 4, shape).astype(np.float32)
    label = rng.integers(0, shape[axis], shape[:axis] + shape[axis + 1:]).astype(np.int32)
    y, (g,) = _grad(lambda t: F.nn.cross_entropy(t, mge.tensor(label, device=device), axis=axis,
                                                 label_smooth=smooth, reduction=reduction),
                    x, device=device)

    def ref(t):
        t = torch.movedim(t, axis, 1)
        return torch.nn.functional.cross_entropy(t, torch.tensor(label, dtype=torch.long),
                                                 label_smoothing=smooth, reduction=reduction)

    ty, (tg,) = _torch_grad(ref, x)
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(g, tg, rtol=1e-4, atol=1e-7)


def test_cross_entropy_extreme_logits_stay_finite():
    x = np.array([[1000.0, -1000.0, 0.0], [-1e4, 1e4, 3.0]], np.float32)
    label = np.array([1, 1], np.int32)
    y, (g,) = _grad(lambda t: F.nn.cross_entropy(t, mge.tensor(label), reduction="none"), x)
    np.testing.assert_allclose(y, [2000.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(g, [[1, -1, 0], [0, 0, 0]], atol=1e-6)


def test_cross_entropy_small_int_labels_and_probs_path():
    x = np.random.default_rng(3).uniform(0.1, 1, (4, 3)).astype(np.float32)
    label = np.array([0, 2, 1, 2], np.int8)
    got = F.nn.cross_entropy(mge.tensor(x), mge.tensor(label)).numpy()
    np.testing.assert_allclose(got, ce_ref(x.astype(np.float64), label), rtol=1e-5)
    got = F.nn.cross_entropy(mge.tensor(x), mge.tensor(label), with_logits=False).numpy()
    want = -np.log(x[np.arange(4), label.astype(np.int64)]).mean()
    np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 0.5), (0.9, 1.0), (0.25, 0.0)])
def test_focal_loss_matches_torch_formula(alpha, gamma, device):
    rng = np.random.default_rng(4)
    x = rng.normal(0, 3, (64, 10)).astype(np.float32)
    t = (rng.random((64, 10)) < 0.3).astype(np.float32)
    t[:8] = rng.random((8, 10)).astype(np.float32)  # soft targets too
    y, (gx, gt) = _grad(lambda a, b: F.loss.sigmoid_focal_loss(a, b, alpha, gamma), x, t,
                        device=device)
    # float64 torch: float32 torch loses digits in 1 - p_t, which the fused kernel avoids.
    ty, (tgx, tgt) = _torch_grad(lambda a, b: focal_torch(a, b, alpha, gamma), x, t, double=True)
    np.testing.assert_allclose(y, ty, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gx, tgx, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gt, tgt, rtol=1e-4, atol=1e-5)


def test_focal_loss_is_stable_for_confident_logits():
    x = np.array([-100.0, -30.0, 30.0, 100.0, 30.0, -30.0], np.float32)
    t = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0], np.float32)
    y, (gx, _) = _grad(lambda a, b: F.loss.sigmoid_focal_loss(a, b), x, t)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(gx))
    # Right and confident: ~0 loss. Wrong and confident: ~ alpha_t * |x|, slope alpha_t.
    np.testing.assert_allclose(y[:4], 0, atol=1e-20)
    np.testing.assert_allclose(y[4:], [0.75 * 30, 0.25 * 30], rtol=1e-6)
    np.testing.assert_allclose(gx[4:], [0.75, -0.25], rtol=1e-5)


def _second_derivative(fn, x, device):
    xt = mge.tensor(x, device=device)
    outer, inner = GradManager().attach(xt), GradManager().attach(xt)
    w = np.random.default_rng(5).uniform(0.5, 1.5, x.shape).astype(np.float32)
    with outer:
        with inner:
            inner.backward(fn(xt))
        g1 = xt.grad
        xt.grad = None
        outer.backward((g1 * mge.tensor(w, device=device)).sum())
    return xt.grad.numpy(), w


def _torch_second(fn, x, w):
    t = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(fn(t), t, create_graph=True)
    (g2,) = torch.autograd.grad((g * torch.tensor(w)).sum(), t)
    return g2.numpy()


SECOND = [
    ("softmax", lambda t: (F.softmax(t, 1) ** 2).sum(),
     lambda t: (torch.softmax(t, 1) ** 2).sum()),
    ("logsoftmax", lambda t: (F.logsoftmax(t, 1) ** 3).sum(),
     lambda t: (torch.log_softmax(t, 1) ** 3).sum()),
    ("cross_entropy", lambda t: F.nn.cross_entropy(t, mge.tensor([0, 3, 1], device=t.device),
                                                   label_smooth=0.1),
     lambda t: torch.nn.functional.cross_entropy(t, torch.tensor([0, 3, 1]),
                                                 label_smoothing=0.1)),
]


@pytest.mark.parametrize("name,ours,ref", SECOND, ids=[s[0] for s in SECOND])
def test_second_derivative_matches_torch(name, ours, ref, device):
    x = np.random.default_rng(6).normal(0, 1, (3, 4)).astype(np.float32)
    got, w = _second_derivative(ours, x, device)
    np.testing.assert_allclose(got, _torch_second(ref, x, w), rtol=1e-4, atol=1e-6)


def test_cross_entropy_grad_of_grad_wrt_dloss():
    """d/d(dloss) of the CE backward: a nested GradManager differentiating the input gradient
    with respect to the per-sample weights."""
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, (3, 5)).astype(np.float32)
    wts = rng.uniform(0.5, 2, 3).astype(np.float32)
    label = np.array([4, 0, 2], np.int32)
    xt, wt = mge.tensor(x), mge.tensor(wts)
    outer, inner = GradManager().attach(wt), GradManager().attach(xt)
    with outer:
        with inner:
            inner.backward((F.nn.cross_entropy(xt, mge.tensor(label), reduction="none")
                            * wt).sum())
        outer.backward((xt.grad * xt.grad).sum())
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(wts, requires_grad=True)
    loss = (torch.nn.functional.cross_entropy(tx, torch.tensor(label, dtype=torch.long),
                                              reduction="none") * tw).sum()
    (g,) = torch.autograd.grad(loss, tx, create_graph=True)
    (g * g).sum().backward()
    np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_softmax_float16_keeps_dtype():
    x = np.random.default_rng(8).normal(0, 1, (3, 4)).astype(np.float16)
    y = F.softmax(mge.tensor(x, dtype="float16"), axis=1)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.numpy(), softmax_ref(x.astype(np.float64), 1), atol=2e-3)
